#include "bus_batch.h"

#include <time.h>

#include <cstdlib>
#include <cstring>

#include "errors.h"

namespace nova {
namespace {

constexpr const char* kSystemdService = "org.freedesktop.systemd1";
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

uint64_t MonotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Enters a variant if it holds exactly `signature`; skips it otherwise.
bool EnterVariant(sd_bus_message* m, const char* signature) {
  char type = 0;
  const char* contents = nullptr;
  if (sd_bus_message_peek_type(m, &type, &contents) <= 0 || type != 'v' || contents == nullptr ||
      std::strcmp(contents, signature) != 0) {
    sd_bus_message_skip(m, "v");
    return false;
  }
  return sd_bus_message_enter_container(m, 'v', signature) >= 0;
}

template <typename T>
bool ReadBasic(sd_bus_message* m, const char* signature, T& out) {
  if (!EnterVariant(m, signature)) return false;
  T value{};
  bool ok = sd_bus_message_read_basic(m, signature[0], &value) > 0;
  if (ok) out = value;
  return sd_bus_message_exit_container(m) >= 0 && ok;
}

bool ReadStrv(sd_bus_message* m, std::vector<std::string>& out) {
  char** strv = nullptr;
  if (sd_bus_message_read_strv(m, &strv) < 0) return false;
  out.clear();
  for (char** s = strv; s && *s; ++s) {
    out.emplace_back(*s);
    std::free(*s);
  }
  std::free(strv);
  return true;
}

}  // namespace

void BusBatch::GetAll(const std::string& path, const std::string& interface, Handler on_reply) {
  calls_.push_back({path, interface, "GetAll", "", std::move(on_reply), {}, std::nullopt});
}

void BusBatch::Get(const std::string& path, const std::string& interface,
                   const std::string& property, Handler on_reply) {
  calls_.push_back({path, interface, "Get", property, std::move(on_reply), {}, std::nullopt});
}

void BusBatch::ManagerCall(const std::string& method, std::vector<std::string> args,
                           std::optional<int32_t> last, Handler on_reply) {
  calls_.push_back(
      {kManagerPath, kManager, method, "", std::move(on_reply), std::move(args), last});
}

void BusBatch::Send(Call& call) {
  sd_bus_message* m = nullptr;
  bool property = call.interface != kManager;
  int r = sd_bus_message_new_method_call(bus_, &m, kSystemdService, call.path.c_str(),
                                         property ? kProperties : kManager, call.method.c_str());
  if (r >= 0 && property) {
    r = call.method == "Get"
            ? sd_bus_message_append(m, "ss", call.interface.c_str(), call.property.c_str())
            : sd_bus_message_append(m, "s", call.interface.c_str());
  } else if (r >= 0) {
    for (size_t i = 0; i < call.args.size() && r >= 0; ++i) {
      r = sd_bus_message_append_basic(m, 's', call.args[i].c_str());
    }
    if (r >= 0 && call.last) r = sd_bus_message_append_basic(m, 'i', &*call.last);
  }
  auto on_reply = [](sd_bus_message* reply, void* userdata, sd_bus_error*) -> int {
    auto* c = static_cast<Call*>(userdata);
    --c->batch->pending_;
    try {
      const sd_bus_error* e = sd_bus_message_get_error(reply);
      if (e) {
        c->on_reply(nullptr, e->name ? e->name : "");
      } else {
        c->on_reply(reply, nullptr);
      }
    } catch (const std::exception& ex) {
      if (c->batch->failure_.empty()) c->batch->failure_ = ex.what();
    }
    return 0;
  };
  call.batch = this;
  // The slot floats: the bus frees it once the reply came or timed out.
  if (r >= 0) r = sd_bus_call_async(bus_, nullptr, m, on_reply, &call, 0);
  sd_bus_message_unref(m);
  if (r < 0) {
    throw Error(ErrorKind::kUnavailable,
                "cannot ask systemd for " + call.path + ": " + std::strerror(-r));
  }
  ++pending_;
}

void BusBatch::Run(uint64_t timeout_usec) {
  // The deadline counts from the last reply: systemd answers hundreds of
  // KillUnit or StopUnit calls one after the other, each taking it a while
  // under load, and a batch that keeps getting answers is not stuck.
  uint64_t end = MonotonicUsec() + timeout_usec;
  size_t next = 0;
  while (next < calls_.size() || pending_ > 0) {
    while (next < calls_.size() && pending_ < kInFlight) Send(calls_[next++]);
    size_t before = pending_;
    int r = sd_bus_process(bus_, nullptr);
    if (r < 0) {
      throw Error(ErrorKind::kUnavailable,
                  std::string("reading systemd's replies: ") + std::strerror(-r));
    }
    if (pending_ < before) end = MonotonicUsec() + timeout_usec;
    if (r > 0) continue;
    uint64_t now = MonotonicUsec();
    if (now >= end) {
      throw Error(ErrorKind::kUnavailable,
                  "systemd did not answer " + std::to_string(pending_) + " call(s) within " +
                      std::to_string(timeout_usec / 1000000) + " s of its last reply");
    }
    r = sd_bus_wait(bus_, end - now);
    if (r < 0) {
      throw Error(ErrorKind::kUnavailable,
                  std::string("waiting for systemd's replies: ") + std::strerror(-r));
    }
  }
  calls_.clear();
  if (!failure_.empty()) throw Error(ErrorKind::kFailed, failure_);
}

bool ForEachProperty(sd_bus_message* reply,
                     const std::function<bool(std::string_view, sd_bus_message*)>& on) {
  if (sd_bus_message_enter_container(reply, 'a', "{sv}") < 0) return false;
  int r;
  while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
    const char* name = nullptr;
    if (sd_bus_message_read_basic(reply, 's', &name) <= 0) return false;
    if (!on(name, reply) && sd_bus_message_skip(reply, "v") < 0) return false;
    if (sd_bus_message_exit_container(reply) < 0) return false;
  }
  return r >= 0 && sd_bus_message_exit_container(reply) >= 0;
}

bool ReadVariant(sd_bus_message* m, uint64_t& out) { return ReadBasic(m, "t", out); }
bool ReadVariant(sd_bus_message* m, uint32_t& out) { return ReadBasic(m, "u", out); }

bool ReadVariant(sd_bus_message* m, std::string& out) {
  if (!EnterVariant(m, "s")) return false;
  const char* value = nullptr;
  bool ok = sd_bus_message_read_basic(m, 's', &value) > 0;
  if (ok) out = value;
  return sd_bus_message_exit_container(m) >= 0 && ok;
}

bool ReadVariant(sd_bus_message* m, std::vector<std::string>& out) {
  if (!EnterVariant(m, "as")) return false;
  bool ok = ReadStrv(m, out);
  return sd_bus_message_exit_container(m) >= 0 && ok;
}

bool ReadFirstExecArgv(sd_bus_message* m, std::vector<std::string>& argv) {
  if (!EnterVariant(m, "a(sasbttttuii)")) return false;
  if (sd_bus_message_enter_container(m, 'a', "(sasbttttuii)") < 0) return false;
  bool first = true;
  int r;
  while ((r = sd_bus_message_enter_container(m, 'r', "sasbttttuii")) > 0) {
    const char* path = nullptr;
    std::vector<std::string> args;
    if (sd_bus_message_read_basic(m, 's', &path) <= 0 || !ReadStrv(m, args) ||
        sd_bus_message_skip(m, "bttttuii") < 0 || sd_bus_message_exit_container(m) < 0) {
      return false;
    }
    if (first) argv = std::move(args);
    first = false;
  }
  return r >= 0 && sd_bus_message_exit_container(m) >= 0 && sd_bus_message_exit_container(m) >= 0;
}

}  // namespace nova
