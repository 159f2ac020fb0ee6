/* memcross: an independent observer of host memory, for the watcher's
 * benchmarks: it sees what any process outside the agents would see, so novad
 * and the tools it is compared with are timed by the same clock.
 *
 *   memcross PERCENT FILE [TIMEOUT_S [UNDER_PERCENT [UNDER_TIMEOUT_S]]]
 *
 * Reads /proc/meminfo every millisecond and, the first time host memory used
 * (MemTotal - MemAvailable) is at or above PERCENT, writes the CLOCK_REALTIME
 * time in microseconds to FILE and exits 0. Exits 1 after TIMEOUT_S seconds
 * (default 120) without a crossing.
 *
 * With UNDER_PERCENT it keeps reading after the crossing until memory used is
 * below UNDER_PERCENT again, and only then writes FILE: the crossing's time,
 * the time memory came back under, and the highest percentage seen, one a
 * line. If memory is not back under within UNDER_TIMEOUT_S (default
 * TIMEOUT_S) of the crossing, FILE holds the crossing, "-" and the peak, and
 * it exits 3. */
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

static int write_times(const char* path, long long crossed, long long under, double peak) {
  FILE* f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "%lld\n", crossed);
  if (under >= 0) {
    fprintf(f, "%lld\n%.2f\n", under, peak);
  } else if (peak >= 0) {
    fprintf(f, "-\n%.2f\n", peak);
  }
  fclose(f);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: memcross PERCENT FILE [TIMEOUT_S [UNDER_PERCENT [UNDER_TIMEOUT_S]]]\n");
    return 2;
  }
  double mark = atof(argv[1]);
  long long timeout = (argc > 3 ? atoll(argv[3]) : 120) * 1000000LL;
  long long deadline = now_usec() + timeout;
  int until_under = argc > 4;
  double under_mark = until_under ? atof(argv[4]) : 0;
  long long under_timeout = argc > 5 ? atoll(argv[5]) * 1000000LL : timeout;
  struct timespec tick = {0, 1000000L};
  long long crossed = -1;
  double peak = 0;
  while (now_usec() < deadline) {
    double used = used_percent();
    if (crossed < 0 && used >= mark) {
      crossed = now_usec();
      if (!until_under) return write_times(argv[2], crossed, -1, -1);
      deadline = crossed + under_timeout;
    }
    if (crossed >= 0) {
      if (used > peak) peak = used;
      if (used < under_mark) return write_times(argv[2], crossed, now_usec(), peak);
    }
    nanosleep(&tick, NULL);
  }
  if (crossed < 0) return 1;
  write_times(argv[2], crossed, -1, peak);
  return 3;
}
