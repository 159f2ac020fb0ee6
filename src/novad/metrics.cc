#include "metrics.h"

#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <string_view>

#include "duration.h"
#include "errors.h"
#include "files.h"
#include "thread_name.h"
#include "users.h"

namespace nova {
namespace fs = std::filesystem;
namespace {

// The files read in each agent's cgroup, in AgentCgroups' order.
enum AgentFile : size_t {
  kMemoryCurrent,
  kMemoryMax,
  kPidsCurrent,
  kPidsMax,
  kCpuStat,
  kMemoryEvents
};
const std::vector<std::string> kAgentFiles = {"memory.current", "memory.max", "pids.current",
                                              "pids.max",       "cpu.stat",   "memory.events"};

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Appends to one string: with hundreds of agents, a stream per number (and
// labels built once per series) was most of a write's cost.
class Writer {
 public:
  Writer() { out_.reserve(64 * 1024); }
  void Family(const char* name, const char* type, const char* help) {
    out_.append("# HELP ").append(name).append(" ").append(help);
    out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    // Byte and task counts come as doubles too: whole numbers are exact.
    if (value >= 0 && value < 9007199254740992.0 &&
        value == static_cast<double>(static_cast<uint64_t>(value))) {
      Sample(name, labels, static_cast<uint64_t>(value));
      return;
    }
    Start(name, labels);
    char buffer[32];
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 9);
    out_.append(buffer, ec == std::errc() ? end : buffer).append("\n");
  }
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    Start(name, labels);
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, end).append("\n");
  }
  const std::string& Text() const { return out_; }

 private:
  void Start(std::string_view name, std::string_view labels) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ");
  }
  std::string out_;
};

std::string AgentLabels(const AgentSample& a) {
  return "agent=\"" + EscapeLabel(a.agent) + "\",user=\"" + EscapeLabel(a.user) + "\"";
}

}  // namespace

AgentSampler::AgentSampler(std::string agents_cgroup, bool hierarchical_events)
    : hierarchical_events_(hierarchical_events), cgroups_(kAgentFiles, std::move(agents_cgroup)) {}

std::string AgentSampler::UserName(uint32_t uid) {
  // A user removed while their agent runs still gets a series: by number.
  try {
    return UserNameForUid(uid);
  } catch (const Error&) {
    return std::to_string(uid);
  }
}

std::vector<AgentSample> AgentSampler::Read(std::chrono::steady_clock::time_point now) {
  std::vector<AgentSample> agents;
  std::string text;
  // The agents' memory.events only when the slice's total moved (it counts
  // every agent's OOM kills too): one read instead of one per agent.
  auto slice_ooms = hierarchical_events_ ? OomKillCount(cgroups_.slice()) : std::nullopt;
  bool read_ooms = !slice_ooms || slice_ooms != last_slice_ooms_;
  last_slice_ooms_ = slice_ooms;
  ++generation_;
  cgroups_.ForEach([&](const AgentCgroups::Entry& dir) {
    auto name = AgentNameFromUnit(dir.dir_name());
    if (!name) return;
    if (!dir.Read(kMemoryCurrent, text)) return;  // gone meanwhile
    auto current = CgroupLimit(text);
    if (!current || !*current) return;
    auto [it, added] = known_.try_emplace(dir.dir_name());
    Known& k = it->second;
    bool fresh = added || k.inode != dir.inode();  // new, or spawned again
    if (fresh) {
      if (dir.dir_stat().st_nlink == 0) {  // gone meanwhile: no owner to name
        known_.erase(it);
        return;
      }
      k = Known{};
      k.inode = dir.inode();
      k.first_seen = now;
    }
    // systemd makes the cgroup as root and hands it to User= a moment later,
    // once the agent's first process runs: a cgroup still root's is asked
    // again for a while.
    if (fresh ||
        (k.uid == 0 && k.reads_with_processes < 2 && now - k.first_seen < kOwnerHandoverWindow)) {
      uid_t uid = dir.dir_stat().st_uid;  // 0 if gone meanwhile: kept as it was
      if (fresh || uid != k.uid) {
        k.uid = uid;
        k.user = UserName(uid);
      }
    }
    k.generation = generation_;
    // Limits change only by `systemctl set-property`: read again every five
    // minutes (each minute, they were a third of what a write read).
    if (!k.limits_at || now - *k.limits_at >= kLimitsRereadInterval) {
      k.limits_at = now;
      k.memory_max =
          dir.Read(kMemoryMax, text) ? CgroupLimit(text).value_or(std::nullopt) : std::nullopt;
      k.tasks_max =
          dir.Read(kPidsMax, text) ? CgroupLimit(text).value_or(std::nullopt) : std::nullopt;
    }
    if ((read_ooms || fresh) && dir.Read(kMemoryEvents, text)) {
      k.oom_kills = FlatKeyedValue(text, "oom_kill").value_or(0);
    }
    AgentSample a;
    a.agent = *name;
    a.user = k.user;
    a.memory_current = **current;
    a.memory_max = k.memory_max;
    a.tasks_max = k.tasks_max;
    a.oom_kills = k.oom_kills;
    if (dir.Read(kPidsCurrent, text)) {
      auto tasks = CgroupLimit(text);
      a.tasks_current = tasks && *tasks ? **tasks : 0;
    }
    k.reads_with_processes = a.tasks_current > 0 ? std::min(k.reads_with_processes + 1, 2) : 0;
    if (dir.Read(kCpuStat, text)) a.cpu_usage_usec = FlatKeyedValue(text, "usage_usec").value_or(0);
    agents.push_back(std::move(a));
  });
  for (auto it = known_.begin(); it != known_.end();) {
    it = it->second.generation == generation_ ? std::next(it) : known_.erase(it);
  }
  std::sort(agents.begin(), agents.end(),
            [](const AgentSample& a, const AgentSample& b) { return a.agent < b.agent; });
  return agents;
}

std::vector<AgentSample> ReadAgentSamples(const std::string& agents_cgroup) {
  return AgentSampler(agents_cgroup).Read(std::chrono::steady_clock::now());
}

void Metrics::CountReliefKill() {
  std::lock_guard lock(mutex_);
  ++counters_.relief_kills;
}

void Metrics::CountAdmissionRefusal() {
  std::lock_guard lock(mutex_);
  ++counters_.admission_refusals;
}

void Metrics::ObserveReaction(double seconds) {
  std::lock_guard lock(mutex_);
  auto bucket = std::lower_bound(kReactionBuckets.begin(), kReactionBuckets.end(), seconds);
  if (bucket != kReactionBuckets.end())
    ++counters_.reaction_buckets[bucket - kReactionBuckets.begin()];
  ++counters_.reaction_count;
  counters_.reaction_sum += seconds;
}

MetricsCounters Metrics::Snapshot() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::string RenderMetrics(const MetricsInput& in) {
  Writer w;
  w.Family("nova_host_memory_total_bytes", "gauge", "Host memory (MemTotal).");
  w.Sample("nova_host_memory_total_bytes", "", in.host.total);
  w.Family("nova_host_memory_used_bytes", "gauge",
           "Host memory used, as novad's thresholds count it (MemTotal - MemAvailable).");
  w.Sample("nova_host_memory_used_bytes", "", in.host.used());
  w.Family("nova_admission_open", "gauge", "1 while novad admits new agents, 0 while closed.");
  w.Sample("nova_admission_open", "", uint64_t{in.admission_open ? 1u : 0u});
  w.Family("nova_agents", "gauge", "Agents with a cgroup under nova-agents.slice.");
  w.Sample("nova_agents", "", uint64_t{in.agents.size()});

  struct Column {
    const char* name;
    const char* type;
    const char* help;
    std::optional<double> (*value)(const AgentSample&);
  };
  const Column columns[] = {
      {"nova_agent_memory_usage_bytes", "gauge", "The agent's memory.current.",
       [](const AgentSample& a) -> std::optional<double> { return a.memory_current; }},
      {"nova_agent_spec_memory_limit_bytes", "gauge",
       "The agent's memory.max (MemoryMax=); absent when unlimited.",
       [](const AgentSample& a) -> std::optional<double> {
         if (!a.memory_max) return std::nullopt;
         return *a.memory_max;
       }},
      {"nova_agent_tasks", "gauge", "The agent's tasks (pids.current).",
       [](const AgentSample& a) -> std::optional<double> { return a.tasks_current; }},
      {"nova_agent_spec_tasks_limit", "gauge",
       "The agent's pids.max (TasksMax=); absent when unlimited.",
       [](const AgentSample& a) -> std::optional<double> {
         if (!a.tasks_max) return std::nullopt;
         return *a.tasks_max;
       }},
      {"nova_agent_cpu_usage_seconds_total", "counter", "CPU time the agent used (cpu.stat).",
       [](const AgentSample& a) -> std::optional<double> { return a.cpu_usage_usec / 1e6; }},
      {"nova_agent_oom_events_total", "counter",
       "Processes the kernel OOM-killed inside the agent (memory.events oom_kill).",
       [](const AgentSample& a) -> std::optional<double> { return a.oom_kills; }},
  };
  std::vector<std::string> labels;
  labels.reserve(in.agents.size());
  for (const AgentSample& a : in.agents) labels.push_back(AgentLabels(a));
  for (const Column& c : columns) {
    w.Family(c.name, c.type, c.help);
    for (size_t i = 0; i < in.agents.size(); ++i) {
      if (auto v = c.value(in.agents[i])) w.Sample(c.name, labels[i], *v);
    }
  }

  const MetricsCounters& k = in.counters;
  w.Family("nova_relief_kills_total", "counter", "Agents novad killed to relieve host memory.");
  w.Sample("nova_relief_kills_total", "", k.relief_kills);
  w.Family("nova_admission_refusals_total", "counter",
           "Spawns novad refused because of host memory or the agent count.");
  w.Sample("nova_admission_refusals_total", "", k.admission_refusals);
  w.Family("nova_watcher_reaction_seconds", "histogram",
           "From the watcher's last reading below ReliefPercent to the first victim's kill.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kReactionBuckets.size(); ++i) {
    cumulative += k.reaction_buckets[i];
    std::ostringstream le;
    le << kReactionBuckets[i];
    w.Sample("nova_watcher_reaction_seconds_bucket", "le=\"" + le.str() + "\"", cumulative);
  }
  w.Sample("nova_watcher_reaction_seconds_bucket", "le=\"+Inf\"", k.reaction_count);
  w.Sample("nova_watcher_reaction_seconds_sum", "", k.reaction_sum);
  w.Sample("nova_watcher_reaction_seconds_count", "", k.reaction_count);
  return w.Text();
}

void WriteMetricsFile(const std::string& path, const std::string& text) {
  fs::path target(path);
  fs::path dir = target.parent_path();
  // O_EXCL with a random name: whoever may write in the directory (the
  // exporter's user) cannot make us write through a link of theirs.
  std::random_device random;
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    temp = (dir / ("." + target.filename().string() + "." + std::to_string(random()))).string();
    fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    throw Error(ErrorKind::kFailed,
                "cannot write metrics in " + dir.string() + ": " + std::strerror(errno));
  }
  fchmod(fd, 0644);  // whatever the umask: the exporter reads it as its own user
  const char* data = text.data();
  size_t left = text.size();
  bool ok = true;
  while (left > 0) {
    ssize_t n = write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(temp.c_str());
    throw Error(ErrorKind::kFailed, "cannot write " + path + ": " + std::strerror(saved));
  }
}

HostMemory CountingWatchHost::ReadMemory() {
  HostMemory memory = inner_.ReadMemory();
  if (memory.used_percent() < relief_percent_) {
    last_below_ = inner_.Now();
    reacted_ = false;
  }
  return memory;
}

void CountingWatchHost::Emit(const WatchEvent& event) {
  if (event.action == watch_action::kKill && !event.dry_run) {
    metrics_.CountReliefKill();
    if (event.trigger == "watcher" && !reacted_ && last_below_) {
      metrics_.ObserveReaction(std::chrono::duration<double>(inner_.Now() - *last_below_).count());
      reacted_ = true;
    }
  }
  inner_.Emit(event);
}

MetricsWriter::MetricsWriter(std::string path, Usec interval, const Metrics& metrics,
                             std::function<bool()> admission_open)
    : path_(std::move(path)),
      interval_(interval),
      metrics_(metrics),
      admission_open_(std::move(admission_open)) {
  if (path_.empty()) return;
  thread_ = std::thread([this] {
    NameThisThread("metrics");
    Run();
  });
}

MetricsWriter::~MetricsWriter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (last_ok_.value_or(false)) unlink(path_.c_str());
}

bool MetricsWriter::WriteOnce() {
  std::string dir = fs::path(path_).parent_path().string();
  bool ok = false;
  std::string why;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    why = dir + " does not exist (prometheus-node-exporter creates it)";
  } else {
    try {
      MetricsInput in;
      in.host = ReadHostMemory();
      in.admission_open = admission_open_();
      in.agents = sampler_.Read(std::chrono::steady_clock::now());
      in.counters = metrics_.Snapshot();
      WriteMetricsFile(path_, RenderMetrics(in));
      ok = true;
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  if (last_ok_ != ok) {
    if (ok) {
      spdlog::info("metrics: writing {} every {} (MetricsInterval)", path_,
                   FormatDuration(interval_));
    } else {
      spdlog::info("metrics: not written: {}", why);
    }
    last_ok_ = ok;
  }
  return ok;
}

void MetricsWriter::Run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    WriteOnce();
    // What a write allocated (the text, the samples) goes back to the
    // system; glibc would keep it in this thread's arena.
    malloc_trim(0);
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace nova
