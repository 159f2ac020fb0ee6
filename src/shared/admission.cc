#include "admission.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "errors.h"
#include "files.h"
#include "size.h"

namespace nova {

uint64_t MemoryForAgents(const Config& config, uint64_t memory_total) {
  double share = 1.0 - (config.system_share_percent + config.headroom_percent) / 100.0;
  return static_cast<uint64_t>(std::floor(static_cast<double>(memory_total) * share));
}

AgentLoad MeasureLoad(const std::vector<AgentUnitInfo>& units, uint64_t memory_total) {
  AgentLoad load;
  for (const auto& u : units) {
    if (!u.live()) continue;
    ++load.running;
    uint64_t held = u.memory_max == kInfinity ? memory_total : u.memory_max;
    load.memory_committed =
        held > kInfinity - load.memory_committed ? kInfinity : load.memory_committed + held;
  }
  return load;
}

AdmissionGate::Change AdmissionGate::Observe(double used_percent) {
  std::lock_guard lock(observe_);
  bool open = open_.load(std::memory_order_relaxed);
  if (open && used_percent >= config_.admission_percent) {
    open_.store(false, std::memory_order_release);
    return Change::kClosed;
  }
  if (!open && used_percent < config_.admission_reopen_percent) {
    open_.store(true, std::memory_order_release);
    return Change::kReopened;
  }
  return Change::kNone;
}

std::optional<std::string> AdmissionRefusal(const Config& config, const HostMemory& memory,
                                            const AgentLoad& load, uint64_t memory_max,
                                            bool gate_open) {
  char buf[320];
  if (memory.used_percent() >= config.admission_percent) {
    std::snprintf(buf, sizeof buf,
                  "host memory is %.1f%% used, at or above the admission "
                  "threshold of %g%%; wait for agents to finish or free memory",
                  memory.used_percent(), config.admission_percent);
    return buf;
  }
  if (!gate_open) {
    std::snprintf(buf, sizeof buf,
                  "host memory is %.1f%% used; admission closed at %g%% and reopens below "
                  "%g%% (AdmissionReopenPercent); wait for agents to finish or free memory",
                  memory.used_percent(), config.admission_percent, config.admission_reopen_percent);
    return buf;
  }
  if (config.max_agents > 0) {
    if (load.running < config.max_agents) return std::nullopt;
    std::snprintf(buf, sizeof buf,
                  "%llu agents are running, the maximum is %llu (MaxAgents); "
                  "wait for one to finish or kill one",
                  static_cast<unsigned long long>(load.running),
                  static_cast<unsigned long long>(config.max_agents));
    return buf;
  }
  // Weigh what the agents were given, not what they use now: each may grow
  // to its MemoryMax, and the set-aside is meant to hold them all at once.
  uint64_t for_agents = MemoryForAgents(config, memory.total);
  if (load.memory_committed <= for_agents && memory_max <= for_agents - load.memory_committed) {
    return std::nullopt;
  }
  std::snprintf(buf, sizeof buf,
                "agents hold %s of the %s set aside for them (MaxAgents=auto: MemTotal - "
                "SystemSharePercent - HeadroomPercent); this agent asks for %s; wait for one to "
                "finish, kill one or ask for less with --memory",
                FormatSize(load.memory_committed).c_str(), FormatSize(for_agents).c_str(),
                FormatSize(memory_max).c_str());
  return buf;
}

std::optional<std::string> PerUserRefusal(const Config& config, const std::string& user,
                                          uint64_t agents_of_user) {
  if (config.max_agents_per_user == 0 || agents_of_user < config.max_agents_per_user) {
    return std::nullopt;
  }
  return user + " runs " + std::to_string(agents_of_user) +
         (agents_of_user == 1 ? " agent" : " agents") +
         ", the most one user may run (MaxAgentsPerUser=" +
         std::to_string(config.max_agents_per_user) +
         " in /etc/nova/nova.conf); wait for one to finish or kill one";
}

void WriteAdmissionState(const std::string& path, const AdmissionState& state) {
  nlohmann::json j = {{"open", state.open},
                      {"changed_usec", state.changed_usec},
                      {"used_percent", state.used_percent}};
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out.flush()) {
      throw Error(ErrorKind::kFailed, "cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error(ErrorKind::kFailed, "cannot replace " + path + ": " + std::strerror(errno));
  }
}

std::optional<AdmissionState> ReadAdmissionState(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    AdmissionState state;
    state.open = j.at("open").get<bool>();
    state.changed_usec = j.value("changed_usec", int64_t{0});
    state.used_percent = j.value("used_percent", 0.0);
    return state;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace nova
