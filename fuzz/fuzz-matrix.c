/* libFuzzer target for the compatibility matrix: the YAML tree, the schema checks, the
 * range and version parsers, and, for inputs that load, every verdict and the markdown
 * table for a few Python versions. No crash, no leak, no sanitizer report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "python.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evaluate_all(const struct matrix *m, const char *version)
{
	struct pyinfo py = { 0 };
	char *md;

	/* A version-only query built by hand: python_assume() would read /proc each time. */
	if (pyver_parse(version, true, &py.ver) < 0)
		return;
	py.version = (char *)version;
	py.version_source = "--python-version";
	for (size_t i = 0; i < m->n_tools; i++) {
		struct verdict v;
		if (matrix_evaluate(m, &m->tools[i], &py, i % 2 ? "linux" : "win32", &v) == 0) {
			json_decref(verdict_to_json(&v));
			verdict_free(&v);
		}
	}
	for (size_t i = 0; i < m->n_kinds; i++) {
		struct verdict v;
		if (matrix_choose(m, m->kinds[i].name, &py, "linux", NULL, i % 2, &v) == 0)
			verdict_free(&v);
	}
	md = matrix_markdown(m, &py.ver);
	free(md);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct matrix *m = NULL;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	{
		struct vrange r;
		struct toolver tv;
		const char *problem;
		size_t off;
		char buf[64];
		if (vrange_parse(text, &r, &problem, &off) == 0) {
			struct pyver v = { { 3, 14, 0 }, 2 };
			struct vrange s = vrange_of(&v);
			vrange_describe(&r, &s, buf, sizeof(buf));
		}
		(void)toolver_parse(text, &tv);
	}
	if (matrix_load_buffer("fuzz.yaml", (const char *)data, size, &m) == 0) {
		evaluate_all(m, "3.13.1");
		evaluate_all(m, "3.14");
		evaluate_all(m, "3.14.6");
		matrix_free(m);
	}
	free(text);
	return 0;
}
