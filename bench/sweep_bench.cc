// The priority sweep's CPU cost, against the way a supervisor without cgroups
// finds and checks its children: a scan of every process in /proc. Both run
// here, in the same process, on the same processes, and the report is their
// ratio. Run by bench/sweep.sh inside the test VM with thousands of processes
// in agent units; see bench/README.md.
//
//   nova-bench-sweep ROUNDS
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "priority_policy.h"
#include "priority_sweep.h"

namespace {

double CpuMicroseconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// CPU time of one call, averaged over `rounds` calls.
double PerCall(int rounds, const std::function<void()>& call) {
  double start = CpuMicroseconds();
  for (int i = 0; i < rounds; ++i) call();
  return (CpuMicroseconds() - start) / rounds;
}

// The scan: every /proc/PID, its cgroup to tell whether it is an agent's,
// and for those its nice and oom_score_adj, as a sweep must decide on them.
int ScanProc() {
  int agent_processes = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string dir = std::string("/proc/") + entry->d_name;
    std::ifstream cgroup(dir + "/cgroup");
    std::string line;
    if (!std::getline(cgroup, line)) continue;
    if (line.find("/nova-agents.slice/") == std::string::npos) continue;
    ++agent_processes;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, std::atoi(entry->d_name));
    int oom = 0;
    std::ifstream(dir + "/oom_score_adj") >> oom;
    asm volatile("" : : "r"(nice), "r"(oom));
  }
  closedir(proc);
  return agent_processes;
}

// Starts and reaps N children (each takes a pid), outside the agents.
void ForkChildren(int n) {
  for (int i = 0; i < n; ++i) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    if (child > 0) waitpid(child, nullptr, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 50;
  nova::PriorityPolicy policy;
  policy.enabled = true;
  policy.oom_score_adj = 998;
  policy.nice = 5;
  policy.own_oom_score_adj = 0;
  // Every pass made, as while pids are handed out; and one that skips passes
  // while none is (an idle host).
  nova::PrioritySweeper sweeper(policy, nova::kAgentsCgroup, /*newest_pid_file=*/"");
  nova::PrioritySweeper quiet(policy);

  double cold_start = CpuMicroseconds();
  nova::SweepStats cold = sweeper.Sweep(true);
  double cold_us = CpuMicroseconds() - cold_start;
  int scanned = ScanProc();
  int all_processes = 0;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* e = readdir(proc)) all_processes += e->d_name[0] >= '0' && e->d_name[0] <= '9';
    closedir(proc);
  }

  double steady_us = PerCall(rounds, [&] { sweeper.Sweep(); });
  double full_us = PerCall(rounds, [&] { sweeper.Sweep(true); });
  double scan_us = PerCall(rounds, [] { ScanProc(); });
  quiet.Sweep();
  quiet.Sweep();
  int skipped = 0;
  double quiet_us = PerCall(rounds, [&] { skipped += quiet.Sweep().skipped; });
  // A host handing out a few pids between passes (this bench's own
  // children, outside the agents): each pass looks them up one by one. Only
  // the passes are timed, not the forks.
  constexpr int kFewPids = 4;
  nova::PrioritySweeper forking(policy);
  forking.Sweep();
  ForkChildren(kFewPids);
  forking.Sweep();
  int by_new_pids = 0;
  double forking_total = 0;
  for (int i = 0; i < rounds; ++i) {
    ForkChildren(kFewPids);
    double start = CpuMicroseconds();
    by_new_pids += forking.Sweep().by_new_pids;
    forking_total += CpuMicroseconds() - start;
  }
  double few_pids_us = forking_total / rounds;
  // novad sweeps every kInterval and re-examines everything every
  // kFullSweepInterval; a scanner would scan at each tick.
  const int per_full = nova::PrioritySweeper::kFullSweepInterval / nova::PrioritySweeper::kInterval;
  double per_minute = 60.0 / per_full / nova::PrioritySweeper::kInterval.count() *
                      ((per_full - 1) * steady_us + full_us);
  double scan_per_minute = 60.0 / nova::PrioritySweeper::kInterval.count() * scan_us;
  // With passes by new pids, the full one comes every kQuietFullSweepInterval.
  double few_pids_per_minute =
      (60.0 / nova::PrioritySweeper::kInterval.count() - 1) * few_pids_us + full_us;

  std::printf("processes: %d in agent units (scan found %d), %d on the host\n", cold.processes,
              scanned, all_processes);
  std::printf("first sweep (adjusted %d nice, %d oom_score_adj): %.0f us CPU\n", cold.niced,
              cold.oom_adjusted, cold_us);
  std::printf("per call, CPU time averaged over %d rounds:\n", rounds);
  std::printf("  /proc scan (anchor)         %9.0f us\n", scan_us);
  std::printf("  sweep, steady (new pids)    %9.0f us   scan/sweep = %.1fx\n", steady_us,
              scan_us / steady_us);
  std::printf("  sweep, full re-examination  %9.0f us   scan/sweep = %.1fx\n", full_us,
              scan_us / full_us);
  std::printf("  sweep, no new pid           %9.0f us   (%d of %d skipped)\n", quiet_us, skipped,
              rounds);
  std::printf(
      "  sweep, %d new pids a pass    %9.0f us   scan/sweep = %.1fx (%d of %d by new pids)\n",
      kFewPids, few_pids_us, scan_us / few_pids_us, by_new_pids, rounds);
  std::printf(
      "per minute at novad's cadence (a sweep every %llds, a full one every %llds) while pids are "
      "handed out: %.0f us CPU, against %.0f us scanning as often: %.1fx less\n",
      static_cast<long long>(nova::PrioritySweeper::kInterval.count()),
      static_cast<long long>(nova::PrioritySweeper::kFullSweepInterval.count()), per_minute,
      scan_per_minute, scan_per_minute / per_minute);
  std::printf(
      "per minute with %d new pids a pass (passes by new pids, a full one every %llds): %.0f us "
      "CPU, %.1fx less than scanning\n",
      kFewPids, static_cast<long long>(nova::PrioritySweeper::kQuietFullSweepInterval.count()),
      few_pids_per_minute, scan_per_minute / few_pids_per_minute);
  return 0;
}
