/* daemon/cmd.h - the subcommands of feedd. Each takes the arguments after
 * its name and returns the process's exit status. */
#ifndef FEEDD_CMD_H
#define FEEDD_CMD_H

int cmd_parse(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* `run` (once == 0) and `poll --once` (once == 1). */
int cmd_run(int argc, char **argv, int once);

#endif
