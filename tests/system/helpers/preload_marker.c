/* A library an attacker would put in LD_PRELOAD: when loaded into a process
 * it leaves a marker file, owned by whoever that process runs as, in the
 * folder $NOVA_PRELOAD_MARKER names. A root-owned marker means code of the
 * agent's choosing ran as root. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void leave_marker(void) {
  const char* dir = getenv("NOVA_PRELOAD_MARKER");
  if (!dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/marker.%d.uid%d", dir, (int)getpid(), (int)geteuid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) close(fd);
}
