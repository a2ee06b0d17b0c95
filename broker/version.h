/* version.h: the version string every command prints for --version. */
#ifndef HUSH_VERSION_H
#define HUSH_VERSION_H

const char *hush_version(void);

#endif
