/* src/tools/ctl_int.h — fedenumctl subcommands kept in their own files. */
#ifndef FE_CTL_INT_H
#define FE_CTL_INT_H

#include <stdio.h>

/* Exit status shared by every subcommand. */
enum { FE__CTL_EXIT_FAIL = 1, FE__CTL_EXIT_USAGE = 2, FE__CTL_EXIT_NOANSWER = 3 };

/* `fedenumctl query ...`: @argv[0] is "query". Returns the process exit status: 0 an answer
 * (with --validate: a secure one), 1 bogus or insecure, 2 usage, 3 no answer. */
int fe__ctl_query(int argc, char **argv);
/* Its usage lines, for the top-level help. */
void fe__ctl_query_usage(FILE *f);

#endif
