#include "nova_service.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "agent_name.h"
#include "dbus_daemon_proxy.h"
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

// What novad asks the bus about its callers; on the bus thread only.
class DbusDaemonProxy final : public sdbus::ProxyInterfaces<org::freedesktop::DBus_proxy> {
 public:
  explicit DbusDaemonProxy(sdbus::IConnection& connection)
      : ProxyInterfaces(connection, sdbus_compat::ServiceName("org.freedesktop.DBus"),
                        sdbus_compat::ObjectPath("/org/freedesktop/DBus")) {
    registerProxy();
  }
  ~DbusDaemonProxy() { unregisterProxy(); }
};

}  // namespace

CallerCreds CallerCredsFromBus(const std::map<std::string, sdbus::Variant>& credentials) {
  auto read = [&credentials](const char* key) {
    auto it = credentials.find(key);
    if (it == credentials.end() || !it->second.containsValueOfType<uint32_t>()) {
      throw Error(ErrorKind::kPermissionDenied, std::string("the bus did not say the caller's ") +
                                                    key +
                                                    "; novad serves no caller it cannot name");
    }
    return it->second.get<uint32_t>();
  };
  return CallerCreds{read("UnixUserID"), read("ProcessID")};
}

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
  Adaptor(sdbus::IConnection& connection, CallDispatch& dispatch)
      : AdaptorInterfaces(connection, sdbus_compat::ObjectPath(kObjectPath)),
        bus_daemon_(connection),
        dispatch_(dispatch) {
    registerAdaptor();
  }
  ~Adaptor() { unregisterAdaptor(); }

 private:
  // The uid and pid come from the bus (dbus-daemon took them from the
  // socket's peer credentials), never from an argument; read here, on the
  // bus thread, while the call is the one being processed. One question to
  // the bus for both (sd-bus asks once per credential).
  Caller CurrentCaller() {
    CallerCreds creds;
    try {
      creds = CallerCredsFromBus(
          bus_daemon_.GetConnectionCredentials(sdbus_compat::CurrentSender(getObject())));
    } catch (const Error& e) {
      throw ToDbusError(e);
    }
    Caller caller{creds.uid, std::nullopt, creds.pid};
    std::string cgroup = ProcessCgroup(static_cast<pid_t>(creds.pid));
    // A caller whose cgroup cannot be read is treated as an agent: fail closed.
    caller.agent = cgroup.empty() ? std::optional<std::string>("") : AgentOfCgroup(cgroup);
    return caller;
  }

  // Runs one call's work for `caller`, on whichever thread it was handed
  // to: logs what happened and turns every failure into the outcome whose
  // D-Bus error novactl maps back to an exit code. `what` names the call in
  // novad's log ("spawn of agent a1").
  template <typename Work>
  static CallOutcome Serve(const std::string& what, const Caller& caller, Work work) {
    try {
      return work();
    } catch (const Error& e) {
      spdlog::warn("{} for uid {} refused: {}", what, caller.uid, e.what());
      return CallOutcome{{}, e};
    } catch (const std::exception& e) {
      spdlog::error("{} for uid {} failed: {}", what, caller.uid, e.what());
      return CallOutcome{{}, Error(ErrorKind::kFailed, e.what())};
    }
  }

  // The reply of a call, sent on the bus thread: `send` with the outcome's
  // value, or its error.
  template <typename... Results, typename Send>
  static Respond Replier(sdbus::Result<Results...>&& result, Send send) {
    auto shared = std::make_shared<sdbus::Result<Results...>>(std::move(result));
    return [shared, send](const CallOutcome& outcome) {
      try {
        if (outcome.error) {
          shared->returnError(ToDbusError(*outcome.error));
        } else {
          send(*shared, outcome);
        }
      } catch (const sdbus::Error& e) {
        spdlog::warn("could not send a reply: {}", e.getMessage());  // the caller left
      }
    };
  }

  // Refuses at once, before any queue, what needs no worker to refuse.
  template <typename... Results>
  static void RefuseNow(sdbus::Result<Results...>& result, const std::string& what,
                        const Caller& caller, const Error& e) {
    spdlog::warn("{} for uid {} refused: {}", what, caller.uid, e.what());
    result.returnError(ToDbusError(e));
  }

  void Spawn(sdbus::Result<std::string, std::string, std::string, uint32_t>&& result,
             std::string name, std::vector<std::string> argv,
             std::map<std::string, sdbus::Variant> options) override {
    std::string what = "spawn of agent " + Printable(name);
    Caller caller = CurrentCaller();
    SpawnRequest request;
    try {
      RefuseAgentCaller(caller);
      // Decoded here: the options' variants belong to the bus thread.
      request = SpawnRequestFromOptions(name, argv, options);
    } catch (const Error& e) {
      return RefuseNow(result, what, caller, e);
    }
    auto respond = Replier(std::move(result), [](auto& reply, const CallOutcome& outcome) {
      const auto& r = std::get<SpawnResult>(outcome.value);
      reply.returnResults(r.unit, r.active_state, r.sub_state, r.main_pid);
    });
    dispatch_.Submit(
        name, caller.uid,
        [what, caller, request = std::move(request)](AgentManager& manager) {
          return Serve(what, caller, [&] {
            SpawnResult r = manager.Spawn(request, caller);
            spdlog::info("spawned agent {} for uid {}: {} ({}/{}, pid {})", Printable(request.name),
                         caller.uid, r.unit, r.active_state, r.sub_state, r.main_pid);
            return CallOutcome{r, std::nullopt};
          });
        },
        std::move(respond));
  }

  void Kill(sdbus::Result<>&& result, std::string name, bool force) override {
    std::string what = "kill of agent " + Printable(name);
    Caller caller = CurrentCaller();
    try {
      RefuseAgentCaller(caller);
    } catch (const Error& e) {
      return RefuseNow(result, what, caller, e);
    }
    auto respond =
        Replier(std::move(result), [](auto& reply, const CallOutcome&) { reply.returnResults(); });
    dispatch_.Submit(
        name, caller.uid,
        [what, caller, name, force](AgentManager& manager) {
          return Serve(what, caller, [&] {
            manager.Kill(name, force, caller);
            spdlog::info("killed agent {} for uid {}{}", Printable(name), caller.uid,
                         force ? " (force)" : "");
            return CallOutcome{};
          });
        },
        std::move(respond));
  }

  void KillMany(
      sdbus::Result<std::vector<sdbus::Struct<std::string, std::string, std::string>>>&& result,
      std::vector<std::string> names, bool force) override {
    std::string what = "kill of " + std::to_string(names.size()) + " agent(s)";
    Caller caller = CurrentCaller();
    try {
      RefuseAgentCaller(caller);
      if (names.size() > AgentManager::kMaxKillNames) {
        throw Error(ErrorKind::kInvalidArgument, std::to_string(names.size()) +
                                                     " names in one kill; at most " +
                                                     std::to_string(AgentManager::kMaxKillNames));
      }
    } catch (const Error& e) {
      return RefuseNow(result, what, caller, e);
    }
    auto respond = Replier(std::move(result), [](auto& reply, const CallOutcome& outcome) {
      std::vector<sdbus::Struct<std::string, std::string, std::string>> refused;
      for (const auto& r : std::get<std::vector<AgentManager::KillRefusal>>(outcome.value)) {
        refused.emplace_back(r.name, DbusErrorNameFor(r.error.kind()), r.error.what());
      }
      reply.returnResults(refused);
    });
    // One key per caller: one such call of a user at a time, beside any
    // call about a single name (no agent name holds a '/').
    dispatch_.Submit(
        "kill-many/" + std::to_string(caller.uid), caller.uid,
        [what, caller, names = std::move(names), force](AgentManager& manager) {
          return Serve(what, caller, [&] {
            auto refused = manager.KillMany(names, force, caller);
            for (const auto& r : refused) {
              spdlog::warn("kill of agent {} for uid {} refused: {}", Printable(r.name), caller.uid,
                           r.error.what());
            }
            spdlog::info("killed {} agent(s) for uid {}{}", names.size() - refused.size(),
                         caller.uid, force ? " (force)" : "");
            return CallOutcome{std::move(refused), std::nullopt};
          });
        },
        std::move(respond));
  }

  void Attach(sdbus::Result<>&& result, std::string name, uint32_t pid) override {
    std::string what = "attach of pid " + std::to_string(pid) + " to agent " + Printable(name);
    Caller caller = CurrentCaller();
    try {
      RefuseAgentCaller(caller);
    } catch (const Error& e) {
      return RefuseNow(result, what, caller, e);
    }
    auto respond =
        Replier(std::move(result), [](auto& reply, const CallOutcome&) { reply.returnResults(); });
    dispatch_.Submit(
        name, caller.uid,
        [what, caller, name, pid](AgentManager& manager) {
          return Serve(what, caller, [&] {
            auto target = PinProcess(pid);
            manager.Attach(name, pid, target.get(), caller);
            spdlog::info("attached pid {} of uid {} to agent {}", pid, caller.uid, Printable(name));
            return CallOutcome{};
          });
        },
        std::move(respond));
  }

  void Relieve(sdbus::Result<double, double, std::vector<sdbus::Struct<std::string, uint64_t>>,
                             bool>&& result,
               double target_percent, bool dry_run) override {
    std::string what = "relief";
    Caller caller = CurrentCaller();
    try {
      RefuseAgentCaller(caller);
      if (caller.uid != 0) {
        throw Error(ErrorKind::kPermissionDenied,
                    "relief kills other users' agents; only root may ask for it");
      }
      ValidateReliefTarget(target_percent);
    } catch (const Error& e) {
      return RefuseNow(result, what, caller, e);
    }
    auto respond = Replier(std::move(result), [](auto& reply, const CallOutcome& outcome) {
      const auto& r = std::get<ReliefResult>(outcome.value);
      std::vector<sdbus::Struct<std::string, uint64_t>> victims;
      for (const auto& v : r.victims) victims.emplace_back(v.agent, v.current);
      reply.returnResults(r.before.used_percent(), r.after.used_percent(), victims,
                          r.reached_target);
    });
    // On the watcher's thread: relief is the watcher's, and never runs
    // beside one of its own.
    dispatch_.SubmitToWatcher(
        [what, caller, target_percent, dry_run](MemoryWatcher& watcher) {
          return Serve(what, caller, [&] {
            std::string trigger = "novactl relieve (uid " + std::to_string(caller.uid) + ")";
            return CallOutcome{watcher.Relieve(target_percent, dry_run, trigger), std::nullopt};
          });
        },
        std::move(respond));
  }

  DbusDaemonProxy bus_daemon_;
  CallDispatch& dispatch_;
};

NovaService::NovaService(sdbus::IConnection& connection, CallDispatch& dispatch)
    : adaptor_(std::make_unique<Adaptor>(connection, dispatch)) {}

NovaService::~NovaService() = default;

}  // namespace nova
