#include "broker/version.h"

const char *
hush_version(void)
{
	return HUSH_VERSION;
}
