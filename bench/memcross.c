/* memcross: an independent observer of host memory, for the watcher's
 * reaction-time benchmark.
 *
 *   memcross PERCENT FILE [TIMEOUT_S]
 *
 * Reads /proc/meminfo every millisecond and, the first time host memory used
 * (MemTotal - MemAvailable) is at or above PERCENT, writes the CLOCK_REALTIME
 * time in microseconds to FILE and exits 0. Exits 1 after TIMEOUT_S seconds
 * (default 120) without a crossing. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

static long long now_usec(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: memcross PERCENT FILE [TIMEOUT_S]\n");
    return 2;
  }
  double mark = atof(argv[1]);
  long long deadline = now_usec() + (argc > 3 ? atoll(argv[3]) : 120) * 1000000LL;
  struct timespec tick = {0, 1000000L};
  while (now_usec() < deadline) {
    if (used_percent() >= mark) {
      long long crossed = now_usec();
      FILE* f = fopen(argv[2], "w");
      if (!f) return 1;
      fprintf(f, "%lld\n", crossed);
      fclose(f);
      return 0;
    }
    nanosleep(&tick, NULL);
  }
  return 1;
}
