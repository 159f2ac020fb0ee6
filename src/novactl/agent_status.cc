#include "agent_status.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "admission.h"
#include "agent_name.h"
#include "errors.h"
#include "size.h"
#include "table.h"
#include "text.h"

namespace nova {
namespace {

std::string Known(uint64_t value, const std::string& text) {
  return value == kInfinity ? "-" : text;
}

// The agent's argv as one printable line; `limit` bytes at most unless 0.
std::string JoinCommand(const std::vector<std::string>& argv, size_t limit) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + Printable(a);
  return limit > 0 ? TruncateUtf8(line, limit) : line;
}

// Everything below that came from systemd, an outcome file or the agent's
// owner is shown through Printable: an agent controls its argv and workdir,
// and a terminal must never receive them as control codes.
std::string LastOutcome(const AgentRow& row) {
  return row.last_outcome ? Printable(DescribeOutcome(*row.last_outcome)) : "-";
}

std::string State(const AgentUnitInfo& u) {
  return Printable(u.sub_state.empty() ? u.active_state : u.sub_state);
}

std::optional<int64_t> HardDeadline(const AgentUnitInfo& u) {
  if (u.active_enter_usec == 0 || u.runtime_max_usec == kInfinity) return std::nullopt;
  return static_cast<int64_t>(u.active_enter_usec + u.runtime_max_usec);
}

std::string In(std::optional<int64_t> at, int64_t now) {
  if (!at) return "-";
  return *at > now ? "in " + FormatDuration(Usec(*at - now)) : "now";
}

std::string Runtime(const AgentUnitInfo& u, int64_t now) {
  if (u.active_enter_usec == 0) return "-";
  return FormatDuration(
      Usec((now - static_cast<int64_t>(u.active_enter_usec)) / 1000000 * 1000000));
}

std::string Cpu(const AgentUnitInfo& u) {
  return Known(u.cpu_usage_nsec, FormatDuration(Usec(u.cpu_usage_nsec / 1000 / 100000 * 100000)));
}

std::string Memory(const AgentUnitInfo& u) {
  return Known(u.memory_current, FormatSize(u.memory_current)) + "/" + FormatSize(u.memory_max);
}

std::string HostShare(const AgentUnitInfo& u, const HostMemory& m) {
  if (u.memory_current == kInfinity || m.total == 0) return "-";
  return FormatPercent(100.0 * static_cast<double>(u.memory_current) / m.total);
}

std::string Tasks(const AgentUnitInfo& u) {
  return Known(u.tasks_current, std::to_string(u.tasks_current)) + "/" +
         Known(u.tasks_max, std::to_string(u.tasks_max));
}

nlohmann::json OrNull(uint64_t value) {
  return value == kInfinity ? nlohmann::json(nullptr) : nlohmann::json(value);
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string OomKills(const AgentRow& row) {
  return row.oom_kills ? DescribeOomKills(*row.oom_kills) : "0";
}

nlohmann::json LastOomKillJson(const AgentRow& row) {
  if (!row.oom_kills || row.oom_kills->count == 0 || row.oom_kills->last_usec == 0) {
    return nullptr;
  }
  const AgentOomKills& k = *row.oom_kills;
  return {{"process", k.last_process.empty()
                          ? nlohmann::json(nullptr)
                          : nlohmann::json(FindControl(k.last_process) ? Printable(k.last_process)
                                                                       : k.last_process)},
          {"pid", k.last_pid == 0 ? nlohmann::json(nullptr) : nlohmann::json(k.last_pid)},
          {"time_usec", k.last_usec}};
}

nlohmann::json AgentJson(const AgentRow& row, const StatusReport& report) {
  const AgentUnitInfo& u = row.unit;
  nlohmann::json memory = {{"current_bytes", OrNull(u.memory_current)},
                           {"max_bytes", OrNull(u.memory_max)},
                           {"percent_of_host", nullptr}};
  if (u.memory_current != kInfinity && report.memory.total > 0) {
    memory["percent_of_host"] = 100.0 * static_cast<double>(u.memory_current) / report.memory.total;
  }
  return {
      {"name", u.name},
      {"unit", u.unit},
      {"state", u.active_state},
      {"sub_state", u.sub_state},
      {"main_pid", u.main_pid},
      {"memory", memory},
      {"tasks", {{"current", OrNull(u.tasks_current)}, {"max", OrNull(u.tasks_max)}}},
      {"cpu_usec", u.cpu_usage_nsec == kInfinity ? nlohmann::json(nullptr)
                                                 : nlohmann::json(u.cpu_usage_nsec / 1000)},
      {"started_at_usec",
       u.active_enter_usec == 0 ? nlohmann::json(nullptr) : nlohmann::json(u.active_enter_usec)},
      {"runtime_usec",
       u.active_enter_usec == 0
           ? nlohmann::json(nullptr)
           : nlohmann::json(report.now_usec - static_cast<int64_t>(u.active_enter_usec))},
      {"hard_deadline_usec", OrNull(HardDeadline(u))},
      {"soft_deadline_usec", OrNull(u.soft_deadline_usec)},
      {"user", u.user},
      {"workdir", u.workdir},
      {"sandbox",
       {{"profile", u.sandbox},
        {"exposure", row.exposure ? nlohmann::json(*row.exposure) : nlohmann::json(nullptr)}}},
      {"command", u.argv},
      {"last_outcome",
       row.last_outcome ? OutcomeToJson(*row.last_outcome) : nlohmann::json(nullptr)},
      {"oom_kills", row.oom_kills ? row.oom_kills->count : 0},
      {"last_oom_kill", LastOomKillJson(row)},
  };
}

std::string Header(const StatusReport& r) {
  char agents[256];
  if (r.max_agents > 0) {
    std::snprintf(agents, sizeof agents, "maximum %llu (MaxAgents)",
                  static_cast<unsigned long long>(r.max_agents));
  } else {
    std::snprintf(
        agents, sizeof agents,
        "holding %s of the %s set aside for agents (MaxAgents=auto: %s of memory)",
        FormatSize(r.memory_committed).c_str(), FormatSize(r.memory_for_agents).c_str(),
        FormatPercent(100 - r.config.system_share_percent - r.config.headroom_percent).c_str());
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Host memory: %s of %s used (%s); admission closes at %g%%, relief "
                "at %g%% (down to %g%%)\nAgents: %zu running, %s\n",
                FormatSize(r.memory.used()).c_str(), FormatSize(r.memory.total).c_str(),
                FormatPercent(r.memory.used_percent()).c_str(), r.config.admission_percent,
                r.config.relief_percent, r.config.relief_target_percent, r.agents.size(), agents);
  return buf + AdmissionLine(r);
}

nlohmann::json AdmissionJson(const StatusReport& r) {
  bool known = r.novad_running;
  bool open = !r.admission || r.admission->open;
  nlohmann::json j = {
      {"novad_running", r.novad_running},
      {"open", known ? nlohmann::json(open) : nlohmann::json(nullptr)},
      {"reopen_percent", r.config.admission_reopen_percent},
  };
  if (known && !open) {
    j["closed_since_usec"] = r.admission->changed_usec;
    j["closed_at_percent"] = r.admission->used_percent;
    j["held_by_hysteresis"] = r.memory.used_percent() < r.config.admission_percent;
  }
  return j;
}

}  // namespace

std::string AdmissionLine(const StatusReport& r) {
  if (!r.novad_running) {
    return "Admission: unknown, novad is not running (spawns fail until it is: systemctl start "
           "novad)\n";
  }
  if (!r.admission || r.admission->open) return "";
  time_t since = static_cast<time_t>(r.admission->changed_usec / 1000000);
  tm local{};
  localtime_r(&since, &local);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  bool hysteresis = r.memory.used_percent() < r.config.admission_percent;
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "Admission: CLOSED since %s (host memory reached %s; AdmissionPercent=%g)%s; "
                "it reopens below %g%% (AdmissionReopenPercent)\n",
                when, FormatPercent(r.admission->used_percent).c_str(), r.config.admission_percent,
                hysteresis ? ", held closed by hysteresis though now under it" : "",
                r.config.admission_reopen_percent);
  return buf;
}

void AttachOomKills(
    StatusReport& report, const OomKillsByAgent& kills,
    const std::function<std::optional<uint64_t>(const std::string&)>& cgroup_id_of) {
  for (auto& row : report.agents) {
    auto it = kills.find(row.unit.name);
    if (it == kills.end() || it->second.count == 0) continue;
    auto id = cgroup_id_of(row.unit.name);
    if (id && *id == it->second.cgroup_id) row.oom_kills = it->second;
  }
}

StatusReport BuildStatusReport(const HostMemory& memory, const Config& config,
                               const std::vector<AgentUnitInfo>& units,
                               const std::vector<Outcome>& outcomes, int64_t now_usec) {
  StatusReport report;
  report.memory = memory;
  report.config = config;
  report.max_agents = config.max_agents;
  report.memory_committed = MeasureLoad(units, memory.total).memory_committed;
  report.memory_for_agents = MemoryForAgents(config, memory.total);
  report.now_usec = now_usec;
  std::map<std::string, Outcome> by_name;
  for (const auto& o : outcomes) by_name[o.agent] = o;
  for (const auto& u : units) {
    if (!u.live()) continue;
    AgentRow row{u, std::nullopt, std::nullopt, std::nullopt};
    if (auto it = by_name.find(u.name); it != by_name.end()) {
      row.last_outcome = it->second;
      by_name.erase(it);
    }
    report.agents.push_back(std::move(row));
  }
  for (auto& [name, o] : by_name) report.finished.push_back(std::move(o));
  std::sort(report.agents.begin(), report.agents.end(),
            [](const auto& a, const auto& b) { return a.unit.name < b.unit.name; });
  return report;
}

nlohmann::json StatusToJson(const StatusReport& r) {
  nlohmann::json agents = nlohmann::json::array();
  for (const auto& row : r.agents) agents.push_back(AgentJson(row, r));
  nlohmann::json finished = nlohmann::json::array();
  for (const auto& o : r.finished) finished.push_back(OutcomeToJson(o));
  return {
      {"host",
       {{"memory_total_bytes", r.memory.total},
        {"memory_used_bytes", r.memory.used()},
        {"memory_used_percent", r.memory.used_percent()},
        {"admission_percent", r.config.admission_percent},
        {"relief_percent", r.config.relief_percent},
        {"relief_target_percent", r.config.relief_target_percent}}},
      {"admission", AdmissionJson(r)},
      {"agents_running", r.agents.size()},
      {"agents_max", r.max_agents > 0 ? nlohmann::json(r.max_agents) : nlohmann::json(nullptr)},
      {"agents_memory_committed_bytes", r.memory_committed},
      {"agents_memory_set_aside_bytes", r.memory_for_agents},
      {"agents", agents},
      {"finished", finished},
  };
}

std::string FormatStatus(const StatusReport& r, bool all) {
  std::string out = Header(r);
  if (r.agents.empty()) {
    out += "\nNo agents running.\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : r.agents) {
      const AgentUnitInfo& u = row.unit;
      rows.push_back({Printable(u.name), State(u), Memory(u), HostShare(u, r.memory), Tasks(u),
                      Cpu(u), Runtime(u, r.now_usec), In(u.soft_deadline_usec, r.now_usec),
                      In(HardDeadline(u), r.now_usec), Printable(u.user), Printable(u.workdir),
                      LastOutcome(row), JoinCommand(u.argv, 48)});
    }
    out += "\n" + RenderTable({"NAME", "STATE", "MEMORY", "%HOST", "TASKS", "CPU", "RUNTIME",
                               "SOFT", "HARD", "USER", "WORKDIR", "LAST OUTCOME", "COMMAND"},
                              rows);
    // OOM kills inside running agents (OOMPolicy=continue: the agent goes on).
    std::string oom;
    for (const auto& row : r.agents) {
      if (row.oom_kills && row.oom_kills->count > 0) {
        oom += "  " + Printable(row.unit.name) + ": " + OomKills(row) + "\n";
      }
    }
    if (!oom.empty()) out += "\nOOM kills inside running agents:\n" + oom;
  }
  if (all && !r.finished.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& o : r.finished) {
      int64_t age = (r.now_usec - o.finished_at_usec) / 1000000 * 1000000;
      std::string ago = o.finished_at_usec == 0 ? "-"
                        : age < 1000000         ? "just now"
                                                : FormatDuration(Usec(age)) + " ago";
      rows.push_back({Printable(o.agent), ago, Printable(DescribeOutcome(o))});
    }
    out += "\nFinished:\n" + RenderTable({"NAME", "ENDED", "OUTCOME"}, rows);
  } else if (!r.finished.empty()) {
    out += "\n" + std::to_string(r.finished.size()) +
           " finished agent(s) not shown; see novactl status --all\n";
  }
  return out;
}

namespace {

// "2.1 of 10" in one decimal, as systemd-analyze prints it; "-" unmeasured.
std::string Exposure(const std::optional<double>& exposure) {
  if (!exposure) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f", *exposure);
  return std::string(text) + " of 10";
}

}  // namespace

std::string FormatAgent(const StatusReport& r, const std::string& name) {
  for (const auto& row : r.agents) {
    if (row.unit.name != name) continue;
    const AgentUnitInfo& u = row.unit;
    std::vector<std::vector<std::string>> rows = {
        {"Agent:", Printable(u.name)},
        {"Unit:", Printable(u.unit)},
        {"State:", Printable(u.active_state + " (" + u.sub_state + ")")},
        {"Main PID:", u.main_pid ? std::to_string(u.main_pid) : "-"},
        {"Memory:", Memory(u) + " (" + HostShare(u, r.memory) + " of host)"},
        {"Tasks:", Tasks(u)},
        {"CPU:", Cpu(u)},
        {"Runtime:", Runtime(u, r.now_usec)},
        {"Soft deadline:", In(u.soft_deadline_usec, r.now_usec)},
        {"Hard deadline:", In(HardDeadline(u), r.now_usec)},
        {"User:", Printable(u.user)},
        {"Workdir:", Printable(u.workdir)},
        {"Sandbox:", Printable(u.sandbox) + ", exposure " + Exposure(row.exposure) +
                         " (systemd-analyze security)"},
        {"Command:", JoinCommand(u.argv, 0)},
        {"Last outcome:", LastOutcome(row)},
        {"OOM kills:", OomKills(row)},
    };
    std::string table = RenderTable({"", ""}, rows);
    return table.substr(table.find('\n') + 1);
  }
  for (const auto& o : r.finished) {
    if (o.agent != name) continue;
    std::vector<std::vector<std::string>> rows = {
        {"Agent:", Printable(o.agent)},
        {"State:", "finished"},
        {"Outcome:", Printable(DescribeOutcome(o))},
        {"Result:", Printable(o.service_result + " (" + o.exit_code + " " + o.exit_status + ")")},
        {"OOM kills:", std::to_string(o.oom_kills)},
    };
    std::string table = RenderTable({"", ""}, rows);
    return table.substr(table.find('\n') + 1);
  }
  throw Error(ErrorKind::kNotFound, "no agent named \"" + Printable(name) +
                                        "\", running or finished; see novactl status --all");
}

void WaitForPendingOutcomes(Systemd& systemd, const std::string& name,
                            std::chrono::milliseconds limit) {
  std::string who = name.empty() ? "*" : name;
  std::vector<std::string> pending;
  for (const auto& [unit, state] :
       systemd.UnitStates({OutcomeUnitOnSuccess(who), OutcomeUnitOnFailure(who)})) {
    if (state.busy()) pending.push_back(unit);
  }
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pending.empty() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto states = systemd.UnitStates(pending);
    std::erase_if(pending, [&](const std::string& unit) {
      auto it = states.find(unit);
      return it == states.end() || !it->second.busy();
    });
  }
}

}  // namespace nova
