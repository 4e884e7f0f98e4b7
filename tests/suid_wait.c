// SPDX-License-Identifier: GPL-2.0-only
/*
 * suid_wait: a setuid-root program for the visibility tests (the guest's
 * image installs it as /tests/suid_wait, owner root, mode 4755).  Once it
 * runs it writes "r" to stdout, then waits until stdin is closed.
 *
 * Usage: suid_wait <PIPE >PIPE
 */
#include <unistd.h>

int main(void)
{
	char c;

	if (write(STDOUT_FILENO, "r", 1) != 1)
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}
