// Prometheus metrics for operators of many agents: the host, each agent and
// novad's own decisions, in the text exposition format, written to a file
// that Debian's prometheus-node-exporter serves with its textfile collector.
// A file and not a port: a root daemon opens no listener, and the exporter
// operators already run does the serving. Names follow node_exporter
// (nova_host_*) and cAdvisor (nova_agent_memory_usage_bytes, ..._total).
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent_cgroups.h"
#include "agent_name.h"
#include "duration.h"
#include "meminfo.h"
#include "memory_watch.h"

namespace nova {

// One agent's facts, read from its cgroup.
struct AgentSample {
  std::string agent;                   // NAME of nova-agent-NAME.service
  std::string user;                    // the cgroup's owner (systemd delegates it to User=)
  uint64_t memory_current = 0;         // memory.current
  std::optional<uint64_t> memory_max;  // memory.max; nullopt for "max"
  uint64_t tasks_current = 0;          // pids.current
  std::optional<uint64_t> tasks_max;   // pids.max; nullopt for "max"
  uint64_t cpu_usage_usec = 0;         // cpu.stat usage_usec
  uint64_t oom_kills = 0;              // memory.events oom_kill
};

// Every agent's sample under the agents slice, in name order; an agent whose
// cgroup vanishes while being read is left out. With hundreds of agents a
// read must be cheap: each agent's files stay open (AgentCgroups), so a read
// is three preads an agent (memory.current, pids.current, cpu.stat). The
// limits are read again each kLimitsRereadInterval, memory.events only when
// the slice's OOM count moved, the owner's name once per cgroup (a uid with
// no name is given by number; kOwnerHandoverWindow).
class AgentSampler {
 public:
  explicit AgentSampler(std::string agents_cgroup = kAgentsCgroup,
                        bool hierarchical_events = HierarchicalMemoryEvents());
  std::vector<AgentSample> Read(std::chrono::steady_clock::time_point now);

  static constexpr std::chrono::minutes kLimitsRereadInterval{5};
  // How long a cgroup still root's is asked its owner again at each read:
  // systemd hands it to User= as the agent's first process starts, within
  // the start job. It is asked no more once two reads in a row saw a
  // process in it, or after this window; then an agent of root's (the VM's
  // benchmarks run root's) costs no stat a read.
  static constexpr std::chrono::minutes kOwnerHandoverWindow{5};

 private:
  struct Known {  // what is kept of an agent's cgroup between reads
    ino_t inode = 0;
    uid_t uid = 0;  // the cgroup's owner when last asked
    std::chrono::steady_clock::time_point first_seen;
    int reads_with_processes = 0;  // in a row, while root's
    std::string user;
    std::optional<uint64_t> memory_max, tasks_max;
    std::optional<std::chrono::steady_clock::time_point> limits_at;
    uint64_t oom_kills = 0;
    uint64_t generation = 0;
  };
  static std::string UserName(uint32_t uid);

  bool hierarchical_events_;
  AgentCgroups cgroups_;
  std::unordered_map<std::string, Known> known_;  // by directory name
  std::optional<uint64_t> last_slice_ooms_;
  uint64_t generation_ = 0;
};

// One read with a sampler of its own (files opened and closed).
std::vector<AgentSample> ReadAgentSamples(const std::string& agents_cgroup = kAgentsCgroup);

// The watcher's reaction: from its last reading below ReliefPercent (the
// crossing lies after it) to the first victim's kill, an upper bound of how
// long the host was over the threshold before novad acted.
inline constexpr std::array<double, 9> kReactionBuckets = {0.01, 0.025, 0.05, 0.1, 0.2,
                                                           0.5,  1,     2.5,  5};

struct MetricsCounters {
  uint64_t relief_kills = 0;        // agents the watcher or `relieve` killed
  uint64_t admission_refusals = 0;  // spawns refused for memory or count
  std::array<uint64_t, kReactionBuckets.size()> reaction_buckets{};  // not cumulative
  uint64_t reaction_count = 0;
  double reaction_sum = 0;
};

// novad's counters, shared by the threads that count (thread-safe).
class Metrics {
 public:
  void CountReliefKill();
  void CountAdmissionRefusal();
  void ObserveReaction(double seconds);
  MetricsCounters Snapshot() const;

 private:
  mutable std::mutex mutex_;
  MetricsCounters counters_;
};

struct MetricsInput {
  HostMemory host;
  bool admission_open = true;
  std::vector<AgentSample> agents;
  MetricsCounters counters;
};

// The exposition text. Label values are escaped as the format requires, so
// no name or user can add a line or a label of its own.
std::string RenderMetrics(const MetricsInput& input);

// Replaces `path` atomically (a new file in the same directory, renamed over
// it), so the exporter never reads half a file. Never follows a link planted
// in that directory. Throws on failure.
void WriteMetricsFile(const std::string& path, const std::string& text);

// The watcher's host, counted: relief kills and the watcher's reaction are
// taken from the readings and events that pass through, so the watcher's
// policy knows nothing of metrics.
class CountingWatchHost : public WatchHost {
 public:
  CountingWatchHost(WatchHost& inner, Metrics& metrics, double relief_percent)
      : inner_(inner), metrics_(metrics), relief_percent_(relief_percent) {}

  HostMemory ReadMemory() override;
  std::vector<AgentMemory> ReadAgents() override { return inner_.ReadAgents(); }
  void KillAgent(const std::string& agent, const KillMarker& marker) override {
    inner_.KillAgent(agent, marker);
  }
  std::optional<uint64_t> AgentAnonMemory(const std::string& agent) override {
    return inner_.AgentAnonMemory(agent);
  }
  std::chrono::steady_clock::time_point Now() override { return inner_.Now(); }
  void Sleep(std::chrono::milliseconds duration) override { inner_.Sleep(duration); }
  void Emit(const WatchEvent& event) override;
  OomSource& Oom() override { return inner_.Oom(); }

 private:
  WatchHost& inner_;
  Metrics& metrics_;
  double relief_percent_;
  std::optional<std::chrono::steady_clock::time_point> last_below_;  // reading under ReliefPercent
  bool reacted_ = false;  // this crossing's first kill was timed
};

// Rewrites the metrics file every MetricsInterval on a thread of its own, so
// reading every agent's cgroup never delays the watcher; removes the file
// when novad stops, so no stale value outlives it.
class MetricsWriter {
 public:
  MetricsWriter(std::string path, Usec interval, const Metrics& metrics,
                std::function<bool()> admission_open);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // One write now; false (and one log line per change of state) when the
  // directory is missing or the write fails.
  bool WriteOnce();

 private:
  void Run();

  std::string path_;
  Usec interval_;
  const Metrics& metrics_;
  std::function<bool()> admission_open_;
  AgentSampler sampler_;  // used by the writer's thread only
  std::optional<bool> last_ok_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace nova
