/* sctprof matrix refresh: ask PyPI and GitHub what changed since the matrix was written,
 * print the edits that follow, apply them with --write (lib/refresh.h). */
#include "matrix-refresh.h"
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "paths.h"
#include "refresh.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct cmd cmd_matrix;

const char cmd_matrix_refresh_usage[] =
	"usage: sctprof matrix refresh [--matrix FILE] [--write] [--pypi-url BASE]\n"
	"                              [--github-api-url BASE] [--cacert FILE]\n"
	"\n"
	"Ask PyPI (BASE/pypi/NAME/json, for each tool's `pypi:` name) and GitHub\n"
	"(BASE/repos/OWNER/REPO/issues/N, for each row's `issue:`) what changed, and print the\n"
	"edits that would follow: a closed tracking issue with a release after it (the row\n"
	"becomes supported from that release), a classifier for a Python series the matrix\n"
	"does not allow yet (a row becomes untested from the latest release), a release newer\n"
	"than every min-version (reported only). --write applies the edits in place, keeping\n"
	"comments, order and formatting.\n"
	"\n"
	"Options:\n"
	"  --matrix FILE           the matrix (default $SCTPROF_MATRIX, else the shipped one)\n"
	"  --write                 apply the edits to FILE\n"
	"  --pypi-url BASE         default https://pypi.org\n"
	"  --github-api-url BASE   default https://api.github.com ($GITHUB_TOKEN is sent if set)\n"
	"  --cacert FILE           CA certificates for both\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0, 64 usage, 65 the matrix cannot be read as one, 66 no such matrix,\n"
	"75 PyPI or GitHub unreachable (offline), 76 an API refused (rate limit, error).\n";

static int status_for(int r)
{
	switch (-r) {
	case ENOENT: return EXIT_NOINPUT;
	case EINVAL: return EXIT_DATAERR;
	case EPROTO: return EXIT_PROTOCOL;
	case ECONNREFUSED:
	case ECONNRESET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ETIMEDOUT:
	case EAGAIN: return EXIT_TEMPFAIL;
	case EACCES:
	case EROFS: return EXIT_CANTCREAT;
	default: return EXIT_SOFTWARE;
	}
}

int cmd_matrix_refresh(int argc, char **argv)
{
	enum { O_MATRIX = 256, O_WRITE, O_PYPI, O_GITHUB, O_CACERT };
	static const struct option opts[] = {
		{ "matrix", required_argument, NULL, O_MATRIX },
		{ "write", no_argument, NULL, O_WRITE },
		{ "pypi-url", required_argument, NULL, O_PYPI },
		{ "github-api-url", required_argument, NULL, O_GITHUB },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct refresh_opts o = {
		.pypi_url = "https://pypi.org",
		.github_url = "https://api.github.com",
		.github_token = getenv("GITHUB_TOKEN"),
	};
	struct refresh_report rep = { 0 };
	const char *matrix = getenv("SCTPROF_MATRIX");
	char *text = NULL;
	size_t edits = 0;
	bool write = false;
	int c, r, status = 0;

	if (!matrix || !*matrix)
		matrix = data_path("data/compat-matrix.yaml");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_MATRIX: matrix = optarg; break;
		case O_WRITE: write = true; break;
		case O_PYPI: o.pypi_url = optarg; break;
		case O_GITHUB: o.github_url = optarg; break;
		case O_CACERT: o.tls.cacert = optarg; break;
		case 'h':
			fputs(cmd_matrix_refresh_usage, stdout);
			return 0;
		default:
			return cmd_usage_error(&cmd_matrix, "refresh: unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_matrix, "refresh: unexpected '%s'", argv[optind]);
	r = refresh_matrix(matrix, &o, &rep);
	if (r < 0) {
		int code = status_for(r);
		if (code == EXIT_TEMPFAIL)
			log_error("matrix refresh: offline? %s", err_msg_for(r));
		else
			log_error("matrix refresh: %s", err_msg_for(r));
		return code;
	}
	for (size_t i = 0; i < rep.warnings.n; i++)
		log_warn("%s", rep.warnings.v[i]);
	for (size_t i = 0; i < rep.n; i++) {
		const struct refresh_item *it = &rep.items[i];
		if (it->line)
			printf("%s:%d:%d: %s: %s\n", matrix, it->line, it->column, it->tool, it->what);
		else
			printf("%s: %s: %s\n", matrix, it->tool, it->what);
		for (size_t j = 0; j < it->changes.n; j++)
			printf("    %s\n", it->changes.v[j]);
		edits += it->n_edits;
	}
	if (!edits) {
		printf("%s: no edits to make\n", matrix);
		goto out;
	}
	if (!write) {
		printf("%s: %zu edit%s proposed; run with --write to apply\n", matrix, edits,
		       edits == 1 ? "" : "s");
		goto out;
	}
	text = refresh_apply(&rep);
	if (!text) {
		status = log_fail(-ENOMEM, EXIT_SOFTWARE);
		goto out;
	}
	r = write_file_atomic(matrix, text, strlen(text));
	if (r < 0) {
		status = log_fail(r, status_for(r));
		goto out;
	}
	printf("%s: %zu edit%s written\n", matrix, edits, edits == 1 ? "" : "s");
out:
	free(text);
	refresh_report_free(&rep);
	return status;
}
