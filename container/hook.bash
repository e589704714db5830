# sctprof's bash hook for the hydra image. /etc/bash.bashrc sources this file for
# interactive shells, and BASH_ENV names it for the others, so that hydra's own
# `bash -c "...; eval '<CMD>'"` reads it too. It runs the code `sctprof hook bash`
# prints: the greeting, completion, and the SCT_PROFILE wrapper (docs/hydra.md).
#
# A shell start must stay cheap, and starting sctprof is not (it loads libarchive,
# libcrypto, ...): the code is kept in the cache folder, one file per sctprof binary,
# written by `sctprof hook bash --write FILE`, and sourced from there while it is newer
# than the binary; it renews itself in the background when it is out of date.
#
# It must never break a shell:
#  - a non-interactive shell does nothing unless SCT_PROFILE is set, outside a profiled
#    run (SCTPROF_ACTIVE), for a `bash -c` command;
#  - sctprof missing, failing or slow (it ends itself after 2 s): the shell starts as it
#    would without this file, with at most one line on stderr;
#  - code from sctprof is evaluated only when it arrived whole (it ends with the marker).
if [[ -z ${_sctprof_loaded-} ]] &&
	{ [[ $- == *i* ]] || [[ -n ${SCT_PROFILE-} && -z ${SCTPROF_ACTIVE-} && -n ${BASH_EXECUTION_STRING-} ]]; }; then
	_sctprof_loaded=1
	# `hash` finds sctprof on PATH without starting a process.
	if hash sctprof 2>/dev/null; then
		_sctprof_bin=${BASH_CMDS[sctprof]}
		if [[ ${XDG_CACHE_HOME-} == /* ]]; then
			_sctprof_file=$XDG_CACHE_HOME/sctprof
		elif [[ ${HOME-} == /* ]]; then
			_sctprof_file=$HOME/.cache/sctprof
		else
			_sctprof_file=
		fi
		[[ -n $_sctprof_file ]] && _sctprof_file=$_sctprof_file/hook-${_sctprof_bin//\//_}.bash
		if [[ -n $_sctprof_file && -f $_sctprof_file && $_sctprof_file -nt $_sctprof_bin ]]; then
			. "$_sctprof_file"
		elif _sctprof_code=$("$_sctprof_bin" hook bash ${_sctprof_file:+--write "$_sctprof_file"} 2>/dev/null) &&
			[[ $_sctprof_code == *$'\n# sctprof hook end' ]]; then
			eval "$_sctprof_code"
		else
			printf '%s\n' "sctprof: 'sctprof hook bash' failed; this shell starts without sctprof's hook" >&2
		fi
		unset _sctprof_code _sctprof_file _sctprof_bin
	else
		printf '%s\n' "sctprof: not found on PATH; this shell starts without sctprof's hook${SCT_PROFILE:+ (SCT_PROFILE=$SCT_PROFILE is ignored)}" >&2
	fi
fi
