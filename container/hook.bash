# sctprof's bash hook for the hydra image. /etc/bash.bashrc sources this file for
# interactive shells, and BASH_ENV names it for the others, so that hydra's own
# `bash -c "...; eval '<CMD>'"` reads it too. It evaluates `sctprof hook bash` (the
# greeting, completion, and the SCT_PROFILE wrapper; see docs/hydra.md).
#
# It must never break a shell, nor slow down the many non-interactive bash processes a
# test run starts:
#  - a non-interactive shell does nothing at all unless SCT_PROFILE is set, outside a
#    profiled run (SCTPROF_ACTIVE), for a `bash -c` command;
#  - sctprof missing, failing or slow (it ends itself after 2 s): the shell starts as it
#    would without this file, with at most one line on stderr;
#  - the code is evaluated only when it arrived whole (its last line is the end marker).
if [[ -z ${_sctprof_loaded-} ]] &&
	{ [[ $- == *i* ]] || [[ -n ${SCT_PROFILE-} && -z ${SCTPROF_ACTIVE-} && -n ${BASH_EXECUTION_STRING-} ]]; }; then
	_sctprof_loaded=1
	# `hash` looks sctprof up on PATH without starting a process.
	if hash sctprof 2>/dev/null; then
		if _sctprof_code=$(sctprof hook bash 2>/dev/null) &&
			[[ $_sctprof_code == *$'\n# sctprof hook end' ]]; then
			eval "$_sctprof_code"
		else
			printf '%s\n' "sctprof: 'sctprof hook bash' failed; this shell starts without sctprof's hook" >&2
		fi
		unset _sctprof_code
	else
		printf '%s\n' "sctprof: not found on PATH; this shell starts without sctprof's hook${SCT_PROFILE:+ (SCT_PROFILE=$SCT_PROFILE is ignored)}" >&2
	fi
fi
