// novad's host-memory watcher: the decisions, apart from the OS. It keeps
// admission closed while the host is short of memory and, at ReliefPercent,
// kills whole agents, the largest projected memory first (a runaway still
// growing before a steady agent larger this instant; victim_rank.h), one at
// a time, confirming each one's memory came back before choosing the next,
// until host memory is below the target. About once a second it also looks
// for new OOM kills inside running agents and reports them (oom_notice.h). Everything it reads,
// kills and reports goes through WatchHost, so the policy is tested exactly on a fake host and
// proved on a real one by the system tests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "admission.h"
#include "agent_memory.h"
#include "config.h"
#include "meminfo.h"
#include "oom_notice.h"
#include "outcome.h"
#include "victim_rank.h"
#include "watch_events.h"

namespace nova {

// The OS boundary of the watcher.
class WatchHost {
 public:
  virtual ~WatchHost() = default;
  virtual HostMemory ReadMemory() = 0;
  // Every agent's cgroup under the agents slice.
  virtual std::vector<AgentMemory> ReadAgents() = 0;
  // Kills every process of the agent at once, after recording `marker` as
  // the reason. Throws on failure.
  virtual void KillAgent(const std::string& agent, const KillMarker& marker) = 0;
  // The agent's anonymous memory (what cannot be reclaimed without swap), or
  // nullopt once its cgroup is gone.
  virtual std::optional<uint64_t> AgentAnonMemory(const std::string& agent) = 0;
  virtual std::chrono::steady_clock::time_point Now() = 0;
  virtual void Sleep(std::chrono::milliseconds duration) = 0;
  virtual void Emit(const WatchEvent& event) = 0;
  // What OomNotices reads and keeps (oom_notice.h).
  virtual OomSource& Oom() = 0;
};

// What relief would kill: victims in kill order (RankVictims), each assumed
// to give back its memory.current, until used memory would be below
// `target_percent`.
std::vector<RankedVictim> PlanRelief(const HostMemory& memory, double target_percent,
                                     const std::vector<RankedVictim>& ranked);

// How long until the next read of /proc/meminfo: WatchIntervalMax with
// (ReliefPercent - ReliefTargetPercent) points or more of headroom, shrinking
// linearly to WatchIntervalMin at ReliefPercent. When memory is rising (in
// points per second, since the last read) the next read also comes before
// half the time the rise would take to reach ReliefPercent, so a fast hog
// cannot cross it unseen between two reads far apart.
Usec PollInterval(const Config& config, double used_percent, double rise_per_second = 0);

// A killed agent counts as gone once its anonymous memory is at most this
// (the exit hook systemd runs in its cgroup holds a little).
inline constexpr uint64_t kResidualAnonMemory = 16ULL << 20;

// After a relief that ran out of agents, the watcher waits this long before
// it tries again.
inline constexpr std::chrono::seconds kReliefRetryDelay(10);

struct ReliefResult {
  HostMemory before;
  HostMemory after;
  std::vector<AgentMemory> victims;  // killed, or would be in a dry run
  bool dry_run = false;
  bool reached_target = false;
};

class MemoryWatcher {
 public:
  MemoryWatcher(const Config& config, WatchHost& host, AdmissionGate& gate);

  // One look at the host: updates admission; at ReliefPercent runs relief
  // (or, with ReliefDryRun, reports it at most once a minute). Returns the
  // time until the next look.
  Usec Check();

  // Kills agents, largest projected first, one at a time, until host memory is below
  // `target_percent` or no agent is left. A dry run only reports.
  ReliefResult Relieve(double target_percent, bool dry_run, const std::string& trigger);

 private:
  void Emit(std::string action, const HostMemory& host, double threshold,
            const std::string& trigger, bool dry_run, const RankedVictim* agent = nullptr,
            const std::string& detail = "");
  // Check() but the OOM scan's cadence.
  Usec Look();
  // Reads every agent's memory and feeds the growth tracker.
  std::vector<AgentMemory> ObserveAgents();
  // Waits until `victim` has given its memory back, up to ReliefConfirmTimeout.
  bool AwaitMemoryBack(const std::string& victim);

  const Config& config_;
  WatchHost& host_;
  AdmissionGate& gate_;
  std::optional<std::chrono::steady_clock::time_point> last_dry_run_report_;
  std::optional<std::chrono::steady_clock::time_point> next_relief_;
  struct Sample {
    std::chrono::steady_clock::time_point when;
    double used_percent;
  };
  std::optional<Sample> last_sample_;
  GrowthTracker growth_;
  OomNotices oom_;
  std::chrono::steady_clock::time_point next_oom_scan_{};
};

}  // namespace nova
