#include "nova_client.h"

#include <sdbus-c++/sdbus-c++.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "agent_name.h"
#include "busy_retry.h"
#include "errors.h"
#include "nova_bus.h"
#include "nova_manager_proxy.h"
#include "sdbus_compat.h"

namespace nova {
namespace {

// Spawn and Kill wait for systemd jobs (a graceful kill up to the stop
// timeout), so the call deadline is generous; novad has its own deadlines.
constexpr uint64_t kCallTimeoutUsec = 180ULL * 1000000;
// Relief waits for each victim to give its memory back (ReliefConfirmTimeout
// at most, each): allow for many victims.
constexpr uint64_t kReliefTimeoutUsec = 900ULL * 1000000;

Error FromDbus(const sdbus::Error& e) { return NovadError(e.getName(), e.getMessage()); }

}  // namespace

Error NovadError(const std::string& dbus_name, const std::string& dbus_message) {
  ErrorKind kind = ErrorKindFromDbusName(dbus_name);
  std::string message = dbus_message;
  if (dbus_name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      dbus_name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
    message =
        "novad is not running (org.nova.Nova1 has no owner on the system "
        "bus); start it with: systemctl start novad";
  } else if (dbus_name == "org.freedesktop.DBus.Error.AccessDenied") {
    message =
        "not allowed to call novad: run as root or as a member of the "
        "'nova' group";
  } else if (kind == ErrorKind::kUnavailable) {
    message = "novad did not answer: " + message;
  }
  return Error(kind, message);
}

// Given the connection by reference: a proxy that owns its connection runs
// an event loop thread on it (sdbus-c++ 1.x has no way to say no), a thread
// novactl's calls, all synchronous, never need, and that woke with each of
// their replies.
class NovaClient::Proxy final : public sdbus::ProxyInterfaces<org::nova::Nova1::Manager_proxy> {
 public:
  explicit Proxy(sdbus::IConnection& connection)
      : ProxyInterfaces(connection, sdbus_compat::ServiceName(kBusName),
                        sdbus_compat::ObjectPath(kObjectPath)) {
    registerProxy();
  }
  ~Proxy() { unregisterProxy(); }
  using ProxyInterfaces::getProxy;
};

void RefuseInsideAgent() {
  // novad refuses agents whatever this says; saying it here gives an agent
  // the same one line when its unit cannot even reach the bus.
  std::string cgroup = ProcessCgroup(getpid());
  std::optional<std::string> agent = AgentOfCgroup(cgroup);
  // In an agent's own cgroup namespace (systemd 257) the cgroup reads "/";
  // there the name comes from the agent's environment, for this message only.
  if (!agent && cgroup == "/") agent = AgentInCgroupNamespace(getenv("NOVA_AGENT_NAME"));
  if (agent) {
    throw Error(ErrorKind::kPermissionDenied, "agents cannot manage agents: novactl runs inside " +
                                                  (agent->empty() ? std::string("the agents' slice")
                                                                  : "agent \"" + *agent + "\""));
  }
}

NovaClient::NovaClient() {
  RefuseInsideAgent();
  try {
    connection_ = sdbus::createSystemBusConnection();
    proxy_ = std::make_unique<Proxy>(*connection_);
  } catch (const sdbus::Error& e) {
    throw Error(ErrorKind::kUnavailable, "cannot connect to the system bus: " + e.getMessage());
  }
}

NovaClient::~NovaClient() = default;

std::map<std::string, sdbus::Variant> EncodeSpawnOptions(const SpawnRequest& request) {
  std::map<std::string, sdbus::Variant> options;
  options[spawn_option::kWorkingDirectory] = sdbus::Variant(request.workdir);
  if (request.memory_max) options[spawn_option::kMemoryMax] = sdbus::Variant(*request.memory_max);
  if (request.tasks_max) options[spawn_option::kTasksMax] = sdbus::Variant(*request.tasks_max);
  if (request.runtime_max) {
    options[spawn_option::kRuntimeMaxUSec] =
        sdbus::Variant(static_cast<uint64_t>(request.runtime_max->count()));
  }
  if (request.soft_timeout) {
    options[spawn_option::kSoftTimeoutUSec] =
        sdbus::Variant(static_cast<uint64_t>(request.soft_timeout->count()));
  }
  if (!request.environment.empty())
    options[spawn_option::kEnvironment] = sdbus::Variant(request.environment);
  if (request.user) options[spawn_option::kUser] = sdbus::Variant(*request.user);
  if (request.sandbox) options[spawn_option::kSandbox] = sdbus::Variant(*request.sandbox);
  if (!request.allow_ip.empty()) {
    options[spawn_option::kAllowIP] = sdbus::Variant(request.allow_ip);
  }
  if (!request.secrets.empty()) {
    std::map<std::string, std::vector<uint8_t>> secrets;
    for (const auto& [name, value] : request.secrets) {
      secrets[name] = std::vector<uint8_t>(value.begin(), value.end());
    }
    options[spawn_option::kSecrets] = sdbus::Variant(secrets);
  }
  return options;
}

template <typename With>
void NovaClient::Invoke(const char* method, uint64_t timeout_usec, With&& with) {
  try {
    // The call is made by storeResultsTo, or else when the invoker, a
    // temporary, goes at the end of this statement: inside the try.
    with(proxy_->getProxy()
             .callMethod(method)
             .onInterface(org::nova::Nova1::Manager_proxy::INTERFACE_NAME)
             .withTimeout(timeout_usec));
  } catch (const sdbus::Error& e) {
    throw FromDbus(e);
  }
}

template <typename With>
void NovaClient::Call(const char* method, With&& with) {
  RetryWhileBusy([&] { Invoke(method, kCallTimeoutUsec, with); });
}

SpawnResult NovaClient::Spawn(const SpawnRequest& request) {
  std::map<std::string, sdbus::Variant> options = EncodeSpawnOptions(request);
  // A Busy call never ran (novad refuses before queueing it): asking again
  // cannot start the agent twice.
  SpawnResult result;
  Call("Spawn", [&](sdbus::MethodInvoker& call) {
    call.withArguments(request.name, request.argv, options)
        .storeResultsTo(result.unit, result.active_state, result.sub_state, result.main_pid);
  });
  return result;
}

void NovaClient::Kill(const std::string& name, bool force) {
  Call("Kill", [&](sdbus::MethodInvoker& call) { call.withArguments(name, force); });
}

void NovaClient::Attach(const std::string& name, uint32_t pid) {
  Call("Attach", [&](sdbus::MethodInvoker& call) { call.withArguments(name, pid); });
}

// Asked once: novad refuses a relief as Busy when reliefs are waiting
// already ("try again once they are done"), and says so (exit 9).
ReliefReport NovaClient::Relieve(double target_percent, bool dry_run) {
  ReliefReport report;
  report.target_percent = target_percent;
  report.dry_run = dry_run;
  std::vector<sdbus::Struct<std::string, uint64_t>> victims;
  Invoke("Relieve", kReliefTimeoutUsec, [&](sdbus::MethodInvoker& call) {
    call.withArguments(target_percent, dry_run)
        .storeResultsTo(report.used_percent_before, report.used_percent_after, victims,
                        report.reached_target);
  });
  for (const auto& v : victims) report.victims.push_back({v.get<0>(), v.get<1>(), 0});
  return report;
}

}  // namespace nova
