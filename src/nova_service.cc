#include "nova_service.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>

#include "agent_name.h"
#include "errors.h"
#include "nova_manager_adaptor.h"
#include "sdbus_compat.h"
#include "text.h"

namespace nova {
namespace {

template <typename T>
T Option(const std::map<std::string, sdbus::Variant>& options, const std::string& key) {
  const sdbus::Variant& v = options.at(key);
  if (!v.containsValueOfType<T>()) {
    throw Error(ErrorKind::kInvalidArgument, "option " + key + " has D-Bus type " +
                                                 v.peekValueType() + ", expected " +
                                                 sdbus_compat::TypeSignature<T>());
  }
  return v.get<T>();
}

// The cgroup v2 path of a process, "" if it cannot be read (gone).
std::string CgroupOfPid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return "";
}

sdbus::Error ToDbusError(const Error& e) {
  return sdbus_compat::MakeError(DbusErrorNameFor(e.kind()), e.what());
}

}  // namespace

SpawnRequest SpawnRequestFromOptions(const std::string& name, const std::vector<std::string>& argv,
                                     const std::map<std::string, sdbus::Variant>& options) {
  SpawnRequest request;
  request.name = name;
  request.argv = argv;
  for (const auto& [key, value] : options) {
    if (key == "WorkingDirectory") {
      request.workdir = Option<std::string>(options, key);
    } else if (key == "MemoryMax") {
      request.memory_max = Option<uint64_t>(options, key);
    } else if (key == "TasksMax") {
      request.tasks_max = Option<uint64_t>(options, key);
    } else if (key == "RuntimeMaxUSec") {
      request.runtime_max = Usec(Option<uint64_t>(options, key));
    } else if (key == "SoftTimeoutUSec") {
      request.soft_timeout = Usec(Option<uint64_t>(options, key));
    } else if (key == "Environment") {
      request.environment = Option<std::vector<std::string>>(options, key);
    } else if (key == "User") {
      request.user = Option<std::string>(options, key);
    } else if (key == "Secrets") {
      for (const auto& [secret, bytes] :
           Option<std::map<std::string, std::vector<uint8_t>>>(options, key)) {
        request.secrets[secret] = std::string(bytes.begin(), bytes.end());
      }
    } else {
      throw Error(ErrorKind::kInvalidArgument,
                  "unknown spawn option \"" + Printable(key) +
                      "\"; known: WorkingDirectory, MemoryMax, TasksMax, "
                      "RuntimeMaxUSec, SoftTimeoutUSec, Environment, User, Secrets");
    }
  }
  return request;
}

void ValidateReliefTarget(double target) {
  if (!(target > 0 && target < 100)) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "relief target %g%% is not valid; expected a percentage of host memory above "
                  "0 and below 100",
                  target);
    throw Error(ErrorKind::kInvalidArgument, buf);
  }
}

class NovaService::Adaptor final
    : public sdbus::AdaptorInterfaces<org::nova::Nova1::Manager_adaptor> {
 public:
  Adaptor(sdbus::IConnection& connection, AgentManager& manager, MemoryWatcher& watcher)
      : AdaptorInterfaces(connection, sdbus_compat::ObjectPath(kObjectPath)),
        manager_(manager),
        watcher_(watcher) {
    registerAdaptor();
  }
  ~Adaptor() { unregisterAdaptor(); }

 private:
  // The uid and pid come from the bus (dbus-daemon took them from the
  // socket's peer credentials), never from an argument.
  Caller CurrentCaller() {
    auto creds = sdbus_compat::CurrentCreds(getObject());
    Caller caller{creds.uid, std::nullopt};
    std::string cgroup = CgroupOfPid(creds.pid);
    // A caller whose cgroup cannot be read is treated as an agent: fail closed.
    caller.agent = cgroup.empty() ? std::optional<std::string>("") : AgentOfCgroup(cgroup);
    return caller;
  }

  std::tuple<std::string, std::string, std::string, uint32_t> Spawn(
      const std::string& name, const std::vector<std::string>& argv,
      const std::map<std::string, sdbus::Variant>& options) override {
    Caller caller{};
    try {
      caller = CurrentCaller();
      SpawnResult r = manager_.Spawn(SpawnRequestFromOptions(name, argv, options), caller);
      spdlog::info("spawned agent {} for uid {}: {} ({}/{}, pid {})", Printable(name), caller.uid,
                   r.unit, r.active_state, r.sub_state, r.main_pid);
      return {r.unit, r.active_state, r.sub_state, r.main_pid};
    } catch (const Error& e) {
      spdlog::warn("spawn of agent {} for uid {} refused: {}", Printable(name), caller.uid,
                   e.what());
      throw ToDbusError(e);
    } catch (const std::exception& e) {
      spdlog::error("spawn of agent {} for uid {} failed: {}", Printable(name), caller.uid,
                    e.what());
      throw sdbus_compat::MakeError(DbusErrorNameFor(ErrorKind::kFailed), e.what());
    }
  }

  void Kill(const std::string& name, const bool& force) override {
    Caller caller{};
    try {
      caller = CurrentCaller();
      manager_.Kill(name, force, caller);
      spdlog::info("killed agent {} for uid {}{}", Printable(name), caller.uid,
                   force ? " (force)" : "");
    } catch (const Error& e) {
      spdlog::warn("kill of agent {} for uid {} refused: {}", Printable(name), caller.uid,
                   e.what());
      throw ToDbusError(e);
    } catch (const std::exception& e) {
      spdlog::error("kill of agent {} for uid {} failed: {}", Printable(name), caller.uid,
                    e.what());
      throw sdbus_compat::MakeError(DbusErrorNameFor(ErrorKind::kFailed), e.what());
    }
  }

  std::tuple<double, double, std::vector<sdbus::Struct<std::string, uint64_t>>, bool> Relieve(
      const double& target_percent, const bool& dry_run) override {
    Caller caller{};
    try {
      caller = CurrentCaller();
      RefuseAgentCaller(caller);
      if (caller.uid != 0) {
        throw Error(ErrorKind::kPermissionDenied,
                    "relief kills other users' agents; only root may ask for it");
      }
      ValidateReliefTarget(target_percent);
      std::string trigger = "novactl relieve (uid " + std::to_string(caller.uid) + ")";
      ReliefResult r = watcher_.Relieve(target_percent, dry_run, trigger);
      std::vector<sdbus::Struct<std::string, uint64_t>> victims;
      for (const auto& v : r.victims) victims.emplace_back(v.agent, v.current);
      return {r.before.used_percent(), r.after.used_percent(), victims, r.reached_target};
    } catch (const Error& e) {
      spdlog::warn("relief for uid {} refused: {}", caller.uid, e.what());
      throw ToDbusError(e);
    } catch (const std::exception& e) {
      spdlog::error("relief for uid {} failed: {}", caller.uid, e.what());
      throw sdbus_compat::MakeError(DbusErrorNameFor(ErrorKind::kFailed), e.what());
    }
  }

  AgentManager& manager_;
  MemoryWatcher& watcher_;
};

NovaService::NovaService(sdbus::IConnection& connection, AgentManager& manager,
                         MemoryWatcher& watcher)
    : adaptor_(std::make_unique<Adaptor>(connection, manager, watcher)) {}

NovaService::~NovaService() = default;

}  // namespace nova
