#include "agent_hook.h"

#include <signal.h>
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent_name.h"
#include "build_config.h"
#include "duration.h"
#include "errors.h"
#include "systemd.h"

namespace nova {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int RecordExit(const std::string& name) {
  std::map<std::string, std::string> env;
  for (const char* key : {"SERVICE_RESULT", "EXIT_CODE", "EXIT_STATUS"}) {
    if (const char* value = std::getenv(key)) env[key] = value;
  }
  std::string cgroup = CgroupFromProcSelf(ReadFile("/proc/self/cgroup"));
  uint64_t oom_kills = ParseOomKills(ReadFile("/sys/fs/cgroup" + cgroup + "/memory.events"));
  int64_t now = RealtimeUsec();
  OutcomeStore store(kStateDir, kRuntimeDir);
  Outcome outcome = OutcomeFromServiceEnvironment(name, env, oom_kills, now);
  outcome.killed = store.TakeKillMarker(name);
  store.Write(outcome);  // quiet: its stdout would join the agent's own output
  return 0;
}

int SoftWarning(const std::string& name) {
  auto systemd = ConnectSystemd();
  systemd->KillUnit(AgentUnit(name), "main", SIGUSR1);
  std::cout << "agent " << name << ": soft deadline reached, sent SIGUSR1 to its main process"
            << std::endl;
  return 0;
}

}  // namespace

uint64_t ParseOomKills(std::string_view memory_events) {
  std::istringstream in{std::string(memory_events)};
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

std::string CgroupFromProcSelf(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return "";
}

Outcome OutcomeFromServiceEnvironment(const std::string& name,
                                      const std::map<std::string, std::string>& env,
                                      uint64_t oom_kills, int64_t now_usec) {
  auto get = [&](const char* key) {
    auto it = env.find(key);
    return it == env.end() ? std::string() : it->second;
  };
  Outcome o;
  o.agent = name;
  o.service_result = get("SERVICE_RESULT");
  o.exit_code = get("EXIT_CODE");
  o.exit_status = get("EXIT_STATUS");
  o.oom_kills = oom_kills;
  o.finished_at_usec = now_usec;
  return o;
}

int RunAgentHook(int argc, char** argv) {
  std::string usage = "usage: nova-agent-hook exit|soft-warning AGENT (run by systemd)";
  if (argc != 3) {
    std::cerr << usage << std::endl;
    return 2;
  }
  std::string verb = argv[1], name = argv[2];
  try {
    ValidateAgentName(name);
    if (verb == "exit") return RecordExit(name);
    if (verb == "soft-warning") return SoftWarning(name);
    std::cerr << "nova-agent-hook: unknown verb \"" << verb << "\"; " << usage << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nova-agent-hook: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace nova
