/*
 * banned.h - libc calls nap does not use: each is a compile error, because
 * each has a bounded or checked replacement (snprintf, nap_xstrdup, strtol
 * with endptr, strtok_r, getline) and a slip costs a buffer overflow.
 */
#ifndef NAP_BANNED_H
#define NAP_BANNED_H

/* Pull in the declarations first, so the macros below cannot clash with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#define NAP_BANNED(func) sorry_##func##_is_banned_in_nap

#undef strcpy
#define strcpy(x, y) NAP_BANNED(strcpy)
#undef strcat
#define strcat(x, y) NAP_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) NAP_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) NAP_BANNED(strncat)
#undef sprintf
#define sprintf(...) NAP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) NAP_BANNED(vsprintf)
#undef gets
#define gets(x) NAP_BANNED(gets)
#undef strtok
#define strtok(x, y) NAP_BANNED(strtok)
#undef atoi
#define atoi(x) NAP_BANNED(atoi)
#undef atol
#define atol(x) NAP_BANNED(atol)

#endif
