#include "doctor.h"

#include <cstdio>

#include "duration.h"
#include "sandbox.h"
#include "size.h"
#include "systemd_features.h"

namespace nova {
namespace {

std::string JoinWords(const std::vector<std::string>& words, const std::string& separator = " ") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

std::string FormatSizeAtMost(uint64_t bytes) {
  std::string text = FormatSize(bytes);
  for (uint64_t less = 1; ParseSize(text).value_or(0) > bytes && less < bytes; less *= 2) {
    text = FormatSize(bytes - less);
  }
  return text;
}

}  // namespace

Check AgentMemoryCheck(const Config& config, uint64_t memory_total) {
  std::string memory_max = FormatSize(config.memory_max);
  std::string total = FormatSize(memory_total);
  if (memory_total > 0 && config.memory_max > memory_total) {
    return {"agent memory", Check::kFail,
            "MemoryMax=" + memory_max + " is more than the host's memory (" + total +
                "): every spawn without --memory is refused",
            "lower MemoryMax in /etc/nova/nova.conf to at most " + FormatSizeAtMost(memory_total)};
  }
  uint64_t for_agents = MemoryForAgents(config, memory_total);
  if (config.max_agents == 0 && memory_total > 0 && config.memory_max > for_agents) {
    return {"agent memory", Check::kWarn,
            "MemoryMax=" + memory_max + " is more than the " + FormatSize(for_agents) +
                " set aside for agents (MaxAgents=auto): no agent of that size is admitted",
            "lower MemoryMax in /etc/nova/nova.conf to at most " + FormatSizeAtMost(for_agents)};
  }
  return {"agent memory", Check::kOk,
          "MemoryMax=" + memory_max + " per agent, of " + total + " on the host", ""};
}

Check SandboxCheck(const DoctorInputs& in) {
  std::string detail = std::string("agents default to ") + SandboxProfileName(in.config.sandbox) +
                       ", callers other than root get at least " +
                       SandboxProfileName(in.config.sandbox_minimum) + "; strict allows " +
                       (in.config.allow_ip_text.empty() ? std::string("no address")
                                                        : JoinWords(in.config.allow_ip_text));
  std::vector<std::string> missing;
  if (in.systemd_version != 0)
    missing = SystemdFeatures{in.systemd_version}.missing_sandbox_features();
  if (missing.empty()) return {"sandbox", Check::kOk, detail, ""};
  detail +=
      "; systemd " + std::to_string(in.systemd_version) + " lacks " + JoinWords(missing, "; ");
  return {"sandbox", Check::kWarn, detail,
          "nothing to do for spawns, which never fail for it; a newer systemd closes the gap"};
}

std::vector<Check> DoctorChecks(const HostFacts& f, const DoctorInputs& in) {
  std::vector<Check> checks;
  bool systemd_ok = SystemdFeatures{in.systemd_version}.supported();
  checks.push_back(
      {"systemd", systemd_ok ? Check::kOk : Check::kFail,
       in.systemd_version == 0 ? "not reachable on the system bus"
                               : "version " + std::to_string(in.systemd_version),
       systemd_ok ? ""
       : in.systemd_version == 0
           ? "Nova needs systemd as PID 1"
           : "upgrade to systemd " + std::to_string(kMinSystemdVersion) + " or later"});
  checks.push_back(CgroupCheck(f));
  for (auto& c : ControllerChecks(f)) checks.push_back(c);
  checks.push_back(SwapCheck(f));
  checks.push_back(NovaGroupCheck(f));
  if (f.pool.present) checks.push_back(PoolCheck(f));
  bool novad_ok = in.novad_state == "active";
  checks.push_back({"novad", novad_ok ? Check::kOk : Check::kFail,
                    in.novad_state.empty() ? "novad.service is not loaded"
                                           : "novad.service is " + in.novad_state,
                    novad_ok ? "" : "systemctl enable --now novad (see journalctl -u novad)"});
  checks.push_back({"configuration", in.config_error.empty() ? Check::kOk : Check::kFail,
                    in.config_error.empty() ? "/etc/nova/nova.conf loads" : in.config_error,
                    in.config_error.empty() ? "" : "correct /etc/nova/nova.conf"});
  char policy[384];
  std::snprintf(policy, sizeof policy,
                "MemoryMax %s, no swap, MemoryHigh=infinity, TasksMax %llu; callers other than "
                "root get at most %s, %llu tasks, %s and %s agents each; priority management %s",
                FormatSize(in.config.memory_max).c_str(),
                static_cast<unsigned long long>(in.config.tasks_max),
                FormatSize(in.config.memory_max_ceiling).c_str(),
                static_cast<unsigned long long>(in.config.tasks_max_ceiling),
                FormatDuration(in.config.runtime_max_ceiling).c_str(),
                in.config.max_agents_per_user == 0
                    ? "unlimited"
                    : std::to_string(in.config.max_agents_per_user).c_str(),
                in.priority_management ? "enabled" : "not enabled");
  checks.push_back({"policy", Check::kOk, policy, ""});
  checks.push_back(AgentMemoryCheck(in.config, in.memory.total));
  checks.push_back(SandboxCheck(in));
  bool watcher_ok = f.memory_pressure && f.cgroup_kill;
  std::string watcher = std::string(f.memory_pressure ? "PSI trigger" : "no memory PSI") + ", " +
                        (f.cgroup_kill ? "cgroup.kill" : "no cgroup.kill");
  checks.push_back(
      {"memory watcher", watcher_ok ? Check::kOk : Check::kWarn, watcher,
       watcher_ok ? ""
       : !f.memory_pressure
           ? "boot with psi=1 (CONFIG_PSI), or novad relies on polling /proc/meminfo alone"
           : "Linux 5.14 or later kills an agent atomically; older kernels use systemd's "
             "KillUnit"});
  // As novad would weigh a spawn of the default size.
  auto refusal = AdmissionRefusal(in.config, in.memory, in.agents, in.config.memory_max);
  char agents[256];
  if (in.config.max_agents > 0) {
    std::snprintf(agents, sizeof agents, "%llu of %llu agents",
                  static_cast<unsigned long long>(in.agents.running),
                  static_cast<unsigned long long>(in.config.max_agents));
  } else {
    std::snprintf(agents, sizeof agents,
                  "%llu agents hold %s of the %s set aside for agents (MaxAgents=auto)",
                  static_cast<unsigned long long>(in.agents.running),
                  FormatSize(in.agents.memory_committed).c_str(),
                  FormatSize(MemoryForAgents(in.config, in.memory.total)).c_str());
  }
  char capacity[384];
  std::snprintf(capacity, sizeof capacity, "%s; host memory %.1f%% used (admission closes at %g%%)",
                agents, in.memory.used_percent(), in.config.admission_percent);
  checks.push_back({"capacity", refusal ? Check::kFail : Check::kOk, capacity,
                    refusal ? "new agents are refused: " + *refusal : ""});
  return checks;
}

}  // namespace nova
