/* Usage texts read for completion (lib/usage.h): both forms sctprof writes, and the
 * words that must not be taken for options or values. */
#include "tap.h"

#include "usage.h"

static const char run_usage[] =
	"usage: sctprof run [OPTIONS] -- COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND (a Python program: python3 script.py, python3 -m pytest, ./sct.py,\n"
	"a console script such as pytest) under a profiler.\n"
	"\n"
	"Options:\n"
	"  -p, --profile KIND     cprofile (default), sampling, memory\n"
	"      --no-archive       keep the run folder only, no bundle\n"
	"  -o, --output-dir DIR   where runs go (default $SCTPROF_OUTPUT_DIR)\n"
	"      --inject           COMMAND need not be Python (bash -c \"...\"): profile every\n"
	"                         Python process under it; -m pytest included\n"
	"      --inject-match PAT programs to profile with --inject\n"
	"      --timeout D        stop the test after D (45s, 90m, 2h30m); exit 124\n"
	"  -h, --help             this text\n";

static const char diff_usage[] =
	"usage: sctprof diff [--metric cumtime|tottime|calls|peak-memory] [--threshold 10%]\n"
	"                    [--min-time 5ms] [--top N]\n"
	"                    [--format text|markdown|json|junit] [--no-sandbox] BASE NEW\n"
	"\n"
	"  --metric M       cumtime (default), tottime\n"
	"  --no-sandbox     parse without the seccomp sandbox\n";

static const char main_usage[] =
	"usage: sctprof [--version] [--help] [-v|--verbose] [-q|--quiet] COMMAND [ARGS]\n"
	"\n"
	"Profile a Python test run.\n";

static const char hook_usage[] =
	"usage: sctprof hook bash [--write FILE]\n"
	"       sctprof hook refresh\n"
	"       sctprof hook check|explain\n"
	"\n"
	"  SCT_PROFILE=KIND        cprofile, memory\n";

static const char *value_of(const struct usage_spec *s, const char *name)
{
	const struct usage_opt *o = usage_find(s, name);
	return o ? (o->value ? o->value : "(flag)") : NULL;
}

static bool has_literal(const struct usage_spec *s, const char *w)
{
	for (size_t i = 0; i < s->literals.n; i++)
		if (!strcmp(s->literals.v[i], w))
			return true;
	return false;
}

int main(void)
{
	struct usage_spec s;

	ok(usage_parse(run_usage, "run", &s) == 0, "run's usage parses");
	is_str(value_of(&s, "-p"), "KIND", "short option of an option line, with its value");
	is_str(value_of(&s, "--profile"), "KIND", "long option of the same line");
	is_str(value_of(&s, "--output-dir"), "DIR", "a value ending in DIR");
	is_str(value_of(&s, "--no-archive"), "(flag)", "a flag");
	is_str(value_of(&s, "--inject"), "(flag)", "a description starting in capitals is no value");
	is_str(value_of(&s, "--inject-match"), "PAT", "one space before the value, one after");
	is_str(value_of(&s, "--timeout"), "D", "a one-letter value");
	is_str(value_of(&s, "-h"), "(flag)", "-h");
	ok(usage_find(&s, "-m") == NULL, "'-m pytest' in a description is not an option");
	ok(usage_find(&s, "--") == NULL, "a bare -- is not an option");
	ok(s.command, "'-- COMMAND' is seen");
	is_int(s.literals.n, 0, "no literal arguments (OPTIONS, COMMAND, ARG... are placeholders)");
	usage_spec_free(&s);

	ok(usage_parse(diff_usage, "diff", &s) == 0, "a synopsis over three lines parses");
	is_str(value_of(&s, "--metric"), "cumtime|tottime|calls|peak-memory", "choices");
	is_str(value_of(&s, "--threshold"), "10%", "a value written as an example, inside its group");
	is_str(value_of(&s, "--min-time"), "5ms", "on the second line");
	is_str(value_of(&s, "--format"), "text|markdown|json|junit", "on the third line");
	is_str(value_of(&s, "--no-sandbox"), "(flag)", "a flag closing its group");
	ok(!s.command, "no command after --");
	is_int(s.literals.n, 0, "BASE and NEW are placeholders");
	usage_spec_free(&s);

	ok(usage_parse(main_usage, NULL, &s) == 0, "the program's synopsis parses");
	is_int(s.n_opts, 6, "--version --help -v --verbose -q --quiet");
	is_str(value_of(&s, "-v"), "(flag)", "alternatives are flags");
	is_str(value_of(&s, "--quiet"), "(flag)", "both alternatives");
	usage_spec_free(&s);

	ok(usage_parse(hook_usage, "hook", &s) == 0, "several synopsis lines parse");
	ok(has_literal(&s, "bash") && has_literal(&s, "refresh"), "literal arguments of each line");
	ok(has_literal(&s, "check") && has_literal(&s, "explain"), "literal alternatives");
	ok(!has_literal(&s, "hook") && !has_literal(&s, "sctprof"), "the command's own name is skipped");
	is_str(value_of(&s, "--write"), "FILE", "an option after a literal");
	ok(usage_find(&s, "SCT_PROFILE=KIND") == NULL, "an environment line is no option");
	usage_spec_free(&s);
	return tap_done();
}
