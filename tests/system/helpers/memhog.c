/* memhog: a test agent that holds memory and shows whether it makes progress.
 *
 *   memhog HOLD_MB [PROGRESS_FILE] [STEP_MS]
 *
 * Allocates and touches HOLD_MB of anonymous memory, STEP_MB at a time (one
 * MiB every STEP_MS, default 0 = as fast as it can), then keeps working: each
 * iteration maps, touches and unmaps 1 MiB (so that it keeps charging its
 * cgroup, as real work does) and re-touches the held pages. The number of
 * iterations done is rewritten to PROGRESS_FILE after each one, so a test can
 * measure progress from outside. Prints "holding N MiB" once the hold is in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static void write_progress(const char* path, unsigned long n) {
  if (!path) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "%lu\n", n);
  fclose(f);
  rename(tmp, path);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: memhog HOLD_MB [PROGRESS_FILE] [STEP_MS]\n");
    return 2;
  }
  long hold_mb = atol(argv[1]);
  const char* progress = argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
  long step_ms = argc > 3 ? atol(argv[3]) : 0;
  long page = sysconf(_SC_PAGESIZE);
  char** chunks = calloc(hold_mb > 0 ? hold_mb : 1, sizeof(char*));
  for (long i = 0; i < hold_mb; ++i) {
    chunks[i] = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunks[i] == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    for (long off = 0; off < MIB; off += page) chunks[i][off] = (char)(i + 1);
    if (step_ms > 0) {
      struct timespec ts = {step_ms / 1000, (step_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  printf("holding %ld MiB\n", hold_mb);
  fflush(stdout);
  for (unsigned long n = 1;; ++n) {
    char* scratch = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch != MAP_FAILED) {
      for (long off = 0; off < MIB; off += page) scratch[off] = (char)n;
      munmap(scratch, MIB);
    }
    for (long i = 0; i < hold_mb; ++i) {
      for (long off = 0; off < MIB; off += page * 16) chunks[i][off]++;
    }
    write_progress(progress, n);
  }
}
