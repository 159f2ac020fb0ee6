// novactl's side of the bus: calls novad and turns D-Bus errors back into
// nova::Error, so novactl reports a refused spawn exactly as novad worded it.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <string>

#include "errors.h"
#include "memory_report.h"
#include "nova_bus.h"

namespace nova {

// Spawn's a{sv} options for `request`: only what the caller gave, so that
// novad applies its own defaults to the rest.
std::map<std::string, sdbus::Variant> EncodeSpawnOptions(const SpawnRequest& request);

// Throws PermissionDenied when novactl itself runs inside an agent: novad
// refuses agents anyway, this says so in one line.
void RefuseInsideAgent();
// novad's (or the bus's) D-Bus error as the nova::Error novactl reports.
Error NovadError(const std::string& dbus_name, const std::string& message);

class NovaClient {
 public:
  NovaClient();  // connects to the system bus; throws Unavailable
  ~NovaClient();

  SpawnResult Spawn(const SpawnRequest& request);
  void Kill(const std::string& name, bool force);
  // Asks novad to move process `pid` (a child of this process) into agent
  // `name`'s unit.
  void Attach(const std::string& name, uint32_t pid);
  ReliefReport Relieve(double target_percent, bool dry_run);

 private:
  class Proxy;
  // One call of novad's `method`: `with(call)` gives the sdbus-c++ call its
  // arguments (and where its results go). A D-Bus error is thrown as novad's
  // nova::Error.
  template <typename With>
  void Invoke(const char* method, uint64_t timeout_usec, With&& with);
  // Invoke, asked again while novad refuses it as Busy (busy_retry.h).
  template <typename With>
  void Call(const char* method, With&& with);

  std::unique_ptr<sdbus::IConnection> connection_;  // outlives the proxy
  std::unique_ptr<Proxy> proxy_;
};

}  // namespace nova
