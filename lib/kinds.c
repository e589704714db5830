/* The profile kinds a user can ask for (DESIGN.md "Profile kinds"). */
#include "kinds.h"

#include <string.h>

const char *const run_kinds[] = {
	"cprofile", "sampling", "memory", "timeline", "scalene", "imports", NULL
};

bool run_kind_known(const char *kind)
{
	for (size_t i = 0; run_kinds[i]; i++)
		if (!strcmp(run_kinds[i], kind))
			return true;
	return false;
}
