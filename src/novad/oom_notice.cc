#include "oom_notice.h"

#include <algorithm>
#include <cctype>

#include "agent_name.h"
#include "text.h"

namespace nova {
namespace {

constexpr size_t kMaxPidsRemembered = 256;
constexpr size_t kMaxKillsPerAgent = 16;

std::string_view FirstLine(std::string_view message) {
  return message.substr(0, message.find('\n'));
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<int64_t> Digits(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The agents slice's path as the kernel prints cgroups ("/nova.slice/...").
std::string_view AgentsCgroupPath() {
  std::string_view full = kAgentsCgroup;
  return full.substr(std::string_view("/sys/fs/cgroup").size());
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// /dev/kmsg shows every byte below ' ', from 127 on, and '\' as \xNN.
std::string DecodeKmsg(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      int hi = HexDigit(text[i + 2]);
      int lo = HexDigit(text[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace

std::optional<KernelOomKill> ParseOomSummary(std::string_view message) {
  std::string_view line = FirstLine(message);
  if (!StartsWith(line, "oom-kill:")) return std::nullopt;
  // The pid and uid the kernel prints last, after the task's name.
  size_t uid_at = line.rfind(",uid=");
  if (uid_at == std::string_view::npos || !Digits(line.substr(uid_at + 5))) return std::nullopt;
  size_t pid_at = line.rfind(",pid=", uid_at);
  if (pid_at == std::string_view::npos) return std::nullopt;
  auto pid = Digits(line.substr(pid_at + 5, uid_at - pid_at - 5));
  if (!pid) return std::nullopt;
  // The first path in the record is the OOM's memory cgroup; only the
  // kernel's text and the cpuset's name come before it, and a cgroup's name
  // holds no '/' unless it is the root's, printed as "cpuset=/,".
  size_t slash = line.find('/');
  if (slash != std::string_view::npos && slash >= 7 && line.substr(slash - 7, 7) == "cpuset=" &&
      line.substr(slash + 1, 1) == ",") {
    slash = line.find('/', slash + 1);
  }
  if (slash == std::string_view::npos || slash > pid_at) return std::nullopt;
  std::string_view key = line.substr(0, slash);
  if (!key.ends_with(",oom_memcg=") && !key.ends_with(",global_oom,task_memcg=")) {
    return std::nullopt;
  }
  std::string_view path = line.substr(slash);
  std::string prefix = std::string(AgentsCgroupPath()) + "/nova-agent-";
  if (!StartsWith(path, prefix)) return std::nullopt;
  path.remove_prefix(prefix.size());
  size_t end = path.find_first_of(",/");
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view unit_tail = path.substr(0, end);  // NAME.service
  if (!unit_tail.ends_with(".service")) return std::nullopt;
  auto name = AgentNameFromUnit("nova-agent-" + std::string(unit_tail));
  if (!name) return std::nullopt;
  return KernelOomKill{*name, *pid, ""};
}

std::optional<KernelOomKill> ParseKilledProcess(std::string_view message) {
  std::string_view line = FirstLine(message);
  constexpr std::string_view kKilled = ": Killed process ";
  size_t at = line.find(kKilled);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view cause = line.substr(0, at);
  if (!StartsWith(cause, "Memory cgroup out of memory") && !StartsWith(cause, "Out of memory")) {
    return std::nullopt;
  }
  std::string_view rest = line.substr(at + kKilled.size());
  size_t open = rest.find(" (");
  if (open == std::string_view::npos) return std::nullopt;
  auto pid = Digits(rest.substr(0, open));
  if (!pid) return std::nullopt;
  // The name is the agent's: it may hold ") total-vm:" itself, but what the
  // kernel prints after it never does, so the last one ends it.
  std::string_view named = rest.substr(open + 2);
  size_t close = named.rfind(") total-vm:");
  if (close == std::string_view::npos) close = named.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  return KernelOomKill{"", *pid, Printable(DecodeKmsg(named.substr(0, close)))};
}

void KernelOomLog::Feed(std::string_view message) {
  if (auto summary = ParseOomSummary(message)) {
    agent_of_pid_[summary->pid] = summary->agent;
    if (agent_of_pid_.size() > kMaxPidsRemembered) agent_of_pid_.erase(agent_of_pid_.begin());
    return;
  }
  if (auto killed = ParseKilledProcess(message)) {
    auto it = agent_of_pid_.find(killed->pid);
    if (it == agent_of_pid_.end()) return;  // not an agent's, or its summary was rate-limited
    killed->agent = it->second;
    agent_of_pid_.erase(it);
    auto& kills = kills_[killed->agent];
    kills.push_back(std::move(*killed));
    if (kills.size() > kMaxKillsPerAgent) kills.erase(kills.begin());
  }
}

std::vector<KernelOomKill> KernelOomLog::Take(const std::string& agent) {
  auto it = kills_.find(agent);
  if (it == kills_.end()) return {};
  std::vector<KernelOomKill> kills = std::move(it->second);
  kills_.erase(it);
  return kills;
}

bool KernelOomLog::Has(const std::string& agent) const { return kills_.count(agent) > 0; }

void KernelOomLog::Forget(const std::vector<AgentOomCount>& running) {
  for (auto it = kills_.begin(); it != kills_.end();) {
    bool live = std::any_of(running.begin(), running.end(),
                            [&](const AgentOomCount& c) { return c.agent == it->first; });
    it = live ? std::next(it) : kills_.erase(it);
  }
}

namespace {

bool SameKills(const OomKillsByAgent& a, const OomKillsByAgent& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, k] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.cgroup_id != k.cgroup_id || it->second.count != k.count ||
        it->second.last_usec != k.last_usec) {
      return false;
    }
  }
  return true;
}

std::string OomMessage(const std::string& agent, uint64_t fresh, const AgentOomKills& k) {
  std::string what;
  if (k.last_process.empty()) {
    what = fresh == 1 ? "a process was killed (the kernel log did not name it)"
                      : std::to_string(fresh) +
                            " processes were killed (the kernel log did not "
                            "name them)";
  } else {
    std::string process = "process " + k.last_process + " (pid " + std::to_string(k.last_pid) + ")";
    what = fresh == 1 ? "the kernel killed " + process
                      : std::to_string(fresh) + " processes were killed, the last " + process;
  }
  return "OOM kill in agent " + agent + ": " + what + "; " + std::to_string(k.count) +
         " OOM kill(s) in it so far";
}

}  // namespace

std::vector<WatchEvent> OomNotices::Scan(OomSource& source) {
  std::vector<AgentOomCount> counts = source.ReadOomCounts();
  // After the counters: the kernel counts a kill just before it logs the
  // process, so a record missed now is there at the next look.
  for (const std::string& message : source.ReadKernelLog()) log_.Feed(message);
  std::vector<WatchEvent> events;
  if (!loaded_) {
    loaded_ = true;
    auto saved = source.LoadOomKills();
    if (!saved) {
      for (const AgentOomCount& c : counts) {
        if (c.oom_kills > 0) kills_[c.agent] = AgentOomKills{c.cgroup_id, c.oom_kills, "", 0, 0};
      }
      for (const AgentOomCount& c : counts) log_.Take(c.agent);
      source.SaveOomKills(kills_);
      return events;
    }
    kills_ = std::move(*saved);
  }
  OomKillsByAgent next;
  int64_t now = source.RealtimeUsec();
  for (const AgentOomCount& c : counts) {
    auto prev = kills_.find(c.agent);
    bool same = prev != kills_.end() && prev->second.cgroup_id == c.cgroup_id;
    AgentOomKills entry = same ? prev->second : AgentOomKills{c.cgroup_id, 0, "", 0, 0};
    if (c.oom_kills > entry.count) {
      if (!log_.Has(c.agent) && deferred_.emplace(c.agent, c.oom_kills).second) {
        if (entry.count > 0) next[c.agent] = entry;
        continue;
      }
      deferred_.erase(c.agent);
      std::vector<KernelOomKill> seen = log_.Take(c.agent);
      uint64_t fresh = c.oom_kills - entry.count;
      entry.count = c.oom_kills;
      entry.last_usec = now;
      entry.last_process = seen.empty() ? "" : seen.back().process;
      entry.last_pid = seen.empty() ? 0 : seen.back().pid;
      WatchEvent e;
      e.action = watch_action::kOomKill;
      e.agent = c.agent;
      e.trigger = "kernel";
      e.oom_kills = entry.count;
      e.oom_new = fresh;
      e.oom_pid = entry.last_pid;
      e.oom_process = entry.last_process;
      e.message = OomMessage(c.agent, fresh, entry);
      events.push_back(std::move(e));
    } else if (c.oom_kills < entry.count) {
      entry.count = c.oom_kills;  // a counter never falls; trust the kernel
    }
    if (entry.count > 0) next[c.agent] = entry;
  }
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    bool live = std::any_of(counts.begin(), counts.end(),
                            [&](const AgentOomCount& c) { return c.agent == it->first; });
    it = live ? std::next(it) : deferred_.erase(it);
  }
  log_.Forget(counts);
  if (!SameKills(next, kills_)) {
    kills_ = std::move(next);
    source.SaveOomKills(kills_);
  }
  return events;
}

}  // namespace nova
