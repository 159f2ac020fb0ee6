// Reading many units' properties one call at a time costs a bus round trip
// each: 300 agents took seconds. A BusBatch sends all its calls at once and
// reads the replies as they come, so the cost is one round trip plus
// systemd's own work. At most kInFlight calls await a reply at any time, under
// dbus-daemon's limit of pending replies per connection (128 on the system
// bus). It speaks plain sd-bus so that a reply is read in place and only the
// properties Nova uses are copied out.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nova {

class BusBatch {
 public:
  // Called with the reply, or with nullptr when the call failed (the object
  // went away, say); `error` names the D-Bus error then.
  using Handler = std::function<void(sd_bus_message* reply, const char* error)>;

  explicit BusBatch(sd_bus* bus) : bus_(bus) {}

  // org.freedesktop.DBus.Properties.GetAll(interface) on `path` of systemd.
  void GetAll(const std::string& path, const std::string& interface, Handler on_reply);
  // org.freedesktop.DBus.Properties.Get(interface, property) on `path`.
  void Get(const std::string& path, const std::string& interface, const std::string& property,
           Handler on_reply);
  // A method of systemd's Manager taking strings and, when `last` is set, an
  // int32 after them: StopUnit(unit, mode), KillUnit(unit, whom, signal).
  void ManagerCall(const std::string& method, std::vector<std::string> args,
                   std::optional<int32_t> last, Handler on_reply);

  // Sends every call and returns once each has its reply or failed; throws
  // Unavailable when the bus itself fails or no reply comes for
  // `timeout_usec` (each call's own timeout is sd-bus's, from its sending).
  void Run(uint64_t timeout_usec = 25 * 1000000ULL);

  static constexpr size_t kInFlight = 64;

 private:
  struct Call {
    std::string path, interface, method, property;
    Handler on_reply;
    std::vector<std::string> args;  // a Manager method's, in order
    std::optional<int32_t> last;
    BusBatch* batch = nullptr;
  };
  void Send(Call& call);

  sd_bus* bus_;
  std::vector<Call> calls_;
  size_t pending_ = 0;
  std::string failure_;
};

// Walks a GetAll reply (a{sv}): `on` is called with each property's name,
// the message positioned at its variant; it reads the variant (ReadVariant)
// and returns true, or returns false to have it skipped. Returns false on a
// malformed reply.
bool ForEachProperty(sd_bus_message* reply,
                     const std::function<bool(std::string_view, sd_bus_message*)>& on);

// Reads a variant holding exactly `signature` into `out`; a variant of
// another type is skipped and leaves `out` alone. True when read.
bool ReadVariant(sd_bus_message* m, uint64_t& out);
bool ReadVariant(sd_bus_message* m, uint32_t& out);
bool ReadVariant(sd_bus_message* m, std::string& out);
bool ReadVariant(sd_bus_message* m, std::vector<std::string>& out);
// ExecStart's a(sasbttttuii): the first command's argv.
bool ReadFirstExecArgv(sd_bus_message* m, std::vector<std::string>& argv);

}  // namespace nova
