/* memhog: a test agent that holds memory and shows whether it makes progress.
 *
 *   memhog HOLD_MB [PROGRESS_FILE] [STEP_MS]
 *
 * Allocates and touches HOLD_MB of anonymous memory, STEP_MB at a time (one
 * MiB every STEP_MS, default 0 = as fast as it can), then keeps working: each
 * iteration maps, touches and unmaps 1 MiB (so that it keeps charging its
 * cgroup, as real work does) and re-touches the held pages. The number of
 * iterations done is rewritten to PROGRESS_FILE after each one, so a test can
 * measure progress from outside. Prints "holding N MiB" once the hold is in.
 *
 * With MEMHOG_MARK_PERCENT=P and MEMHOG_MARK_FILE=F in the environment, it
 * reads /proc/meminfo after each MiB while allocating and, the first time
 * host memory used (MemTotal - MemAvailable) is at or above P percent, writes
 * the CLOCK_REALTIME time in microseconds to F: when the host crossed P. */
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

static double used_percent(void) {
  FILE* f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  double total = 0, available = 0;
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "MemTotal: %lf", &total);
    sscanf(line, "MemAvailable: %lf", &available);
  }
  fclose(f);
  return total > 0 ? 100.0 * (total - available) / total : 0;
}

static void mark_crossing(const char* path) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  FILE* f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "%lld\n", (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
  fclose(f);
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
  const char* mark_env = getenv("MEMHOG_MARK_PERCENT");
  const char* mark_file = getenv("MEMHOG_MARK_FILE");
  double mark = mark_env && mark_file ? atof(mark_env) : -1;
  for (long i = 0; i < hold_mb; ++i) {
    chunks[i] = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunks[i] == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    for (long off = 0; off < MIB; off += page) chunks[i][off] = (char)(i + 1);
    if (mark >= 0 && used_percent() >= mark) {
      mark_crossing(mark_file);
      mark = -1;
    }
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
