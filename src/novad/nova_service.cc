#include "nova_service.h"

#include <spdlog/spdlog.h>

#include <cstdio>

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
    namespace k = spawn_option;
    if (key == k::kWorkingDirectory) {
      request.workdir = Option<std::string>(options, key);
    } else if (key == k::kMemoryMax) {
      request.memory_max = Option<uint64_t>(options, key);
    } else if (key == k::kTasksMax) {
      request.tasks_max = Option<uint64_t>(options, key);
    } else if (key == k::kRuntimeMaxUSec) {
      request.runtime_max = Usec(Option<uint64_t>(options, key));
    } else if (key == k::kSoftTimeoutUSec) {
      request.soft_timeout = Usec(Option<uint64_t>(options, key));
    } else if (key == k::kEnvironment) {
      request.environment = Option<std::vector<std::string>>(options, key);
    } else if (key == k::kUser) {
      request.user = Option<std::string>(options, key);
    } else if (key == k::kSecrets) {
      for (const auto& [secret, bytes] :
           Option<std::map<std::string, std::vector<uint8_t>>>(options, key)) {
        request.secrets[secret] = std::string(bytes.begin(), bytes.end());
      }
    } else if (key == k::kSandbox) {
      request.sandbox = Option<std::string>(options, key);
    } else if (key == k::kAllowIP) {
      request.allow_ip = Option<std::vector<std::string>>(options, key);
    } else {
      std::string known;
      for (const char* option : k::kAll) known += (known.empty() ? "" : ", ") + std::string(option);
      throw Error(ErrorKind::kInvalidArgument,
                  "unknown spawn option \"" + Printable(key) + "\"; known: " + known);
    }
  }
  return request;
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
    Caller caller{creds.uid, std::nullopt, static_cast<uint32_t>(creds.pid)};
    std::string cgroup = ProcessCgroup(creds.pid);
    // A caller whose cgroup cannot be read is treated as an agent: fail closed.
    caller.agent = cgroup.empty() ? std::optional<std::string>("") : AgentOfCgroup(cgroup);
    return caller;
  }

  // Runs one call for the current caller: logs what happened and turns
  // every failure into the D-Bus error novactl maps back to an exit code.
  // `what` names the call in novad's log ("spawn of agent a1").
  template <typename Work>
  auto Serve(const std::string& what, Work work) -> decltype(work(std::declval<const Caller&>())) {
    Caller caller{};
    try {
      caller = CurrentCaller();
      return work(caller);
    } catch (const Error& e) {
      spdlog::warn("{} for uid {} refused: {}", what, caller.uid, e.what());
      throw ToDbusError(e);
    } catch (const std::exception& e) {
      spdlog::error("{} for uid {} failed: {}", what, caller.uid, e.what());
      throw sdbus_compat::MakeError(DbusErrorNameFor(ErrorKind::kFailed), e.what());
    }
  }

  std::tuple<std::string, std::string, std::string, uint32_t> Spawn(
      const std::string& name, const std::vector<std::string>& argv,
      const std::map<std::string, sdbus::Variant>& options) override {
    return Serve("spawn of agent " + Printable(name), [&](const Caller& caller) {
      SpawnResult r = manager_.Spawn(SpawnRequestFromOptions(name, argv, options), caller);
      spdlog::info("spawned agent {} for uid {}: {} ({}/{}, pid {})", Printable(name), caller.uid,
                   r.unit, r.active_state, r.sub_state, r.main_pid);
      return std::make_tuple(r.unit, r.active_state, r.sub_state, r.main_pid);
    });
  }

  void Kill(const std::string& name, const bool& force) override {
    Serve("kill of agent " + Printable(name), [&](const Caller& caller) {
      manager_.Kill(name, force, caller);
      spdlog::info("killed agent {} for uid {}{}", Printable(name), caller.uid,
                   force ? " (force)" : "");
    });
  }

  void Attach(const std::string& name, const uint32_t& pid) override {
    Serve("attach of pid " + std::to_string(pid) + " to agent " + Printable(name),
          [&](const Caller& caller) {
            auto target = PinProcess(pid);
            manager_.Attach(name, pid, target.get(), caller);
            spdlog::info("attached pid {} of uid {} to agent {}", pid, caller.uid, Printable(name));
          });
  }

  std::tuple<double, double, std::vector<sdbus::Struct<std::string, uint64_t>>, bool> Relieve(
      const double& target_percent, const bool& dry_run) override {
    return Serve("relief", [&](const Caller& caller) {
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
      return std::make_tuple(r.before.used_percent(), r.after.used_percent(), victims,
                             r.reached_target);
    });
  }

  AgentManager& manager_;
  MemoryWatcher& watcher_;
};

NovaService::NovaService(sdbus::IConnection& connection, AgentManager& manager,
                         MemoryWatcher& watcher)
    : adaptor_(std::make_unique<Adaptor>(connection, manager, watcher)) {}

NovaService::~NovaService() = default;

}  // namespace nova
