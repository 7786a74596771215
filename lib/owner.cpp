#include "owner.h"

#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json.h"
#include "sha256.h"

namespace kcm {

std::string owner_file_stem(const std::string& owner) {
  bool safe = !owner.empty() && owner.size() <= 128 && owner[0] != '.';
  for (char c : owner) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) safe = false;
  }
  // '+' cannot occur in a safe id, so a hashed name never equals a safe id's name: an id
  // that is itself the hex of another's hash ("3f6c...") keeps its own record.
  return safe ? owner : std::string(kHashedStemPrefix) + sha256_hex(owner);
}

namespace {

nlohmann::json reason_json(const AllocationReason& r) {
  return {{"candidates", r.other_candidates},
          {"freeLists", r.free_lists},
          {"isolated", r.isolated},
          {"numaNodes", r.numa_nodes},
          {"rule", r.rule}};
}

}  // namespace

std::string owner_to_json(const Owner& o) {
  nlohmann::json j = {{"owner", o.owner},          {"pid", o.pid},
                      {"startTime", o.start_time}, {"pool", o.pool},
                      {"cpuLists", o.cpu_lists},   {"created", o.created}};
  if (o.reason) j["reason"] = reason_json(*o.reason);
  return j.dump(2) + "\n";
}

namespace {

// nlohmann converts any number to any arithmetic type, and a double out of the target's
// range is undefined behaviour; kcm's numbers are whole and range-checked here first.
std::uint64_t unsigned_field(const nlohmann::json& j, const char* key, std::uint64_t max,
                             const std::string& display) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > max) {
    throw op_error("parse", display,
                   std::string("\"") + key + "\" must be a whole number from 0 to " +
                       std::to_string(max) + ", not " + v.dump());
  }
  return v.get<std::uint64_t>();
}

// The bounds of a reason's numbers: a pool has at most as many lists as CPUs.
constexpr std::uint64_t kMaxCount = 1U << 20;

AllocationReason reason_from_json(const nlohmann::json& j, const std::string& display) {
  if (!j.is_object()) throw op_error("parse", display, "\"reason\" must be an object");
  AllocationReason r;
  r.rule = j.at("rule").get<std::string>();
  for (const nlohmann::json& node : j.at("numaNodes")) {
    if (!node.is_number_unsigned() || node.get<std::uint64_t>() > kMaxCount) {
      throw op_error("parse", display, "\"numaNodes\" must hold node numbers, not " + node.dump());
    }
    r.numa_nodes.push_back(static_cast<int>(node.get<std::uint64_t>()));
  }
  const nlohmann::json& isolated = j.at("isolated");
  if (!isolated.is_boolean())
    throw op_error("parse", display, "\"isolated\" must be true or false");
  r.isolated = isolated.get<bool>();
  r.free_lists = static_cast<int>(unsigned_field(j, "freeLists", kMaxCount, display));
  r.other_candidates = static_cast<int>(unsigned_field(j, "candidates", kMaxCount, display));
  return r;
}

}  // namespace

Owner owner_from_json(const std::string& text, const std::string& display) {
  try {
    nlohmann::json j = parse_json(text, display);
    Owner o;
    o.owner = j.at("owner").get<std::string>();
    o.pid =
        static_cast<pid_t>(unsigned_field(j, "pid", std::numeric_limits<pid_t>::max(), display));
    o.start_time =
        unsigned_field(j, "startTime", std::numeric_limits<std::uint64_t>::max(), display);
    o.pool = PoolName::parse_in(j.at("pool").get<std::string>(), "parse", display);
    for (const std::string& list : j.at("cpuLists").get<std::vector<std::string>>()) {
      o.cpu_lists.push_back(CpuListName::parse_in(list, "parse", display));
    }
    o.created = j.value("created", "");
    if (auto it = j.find("reason"); it != j.end()) o.reason = reason_from_json(*it, display);
    if (o.pid <= 0) throw op_error("parse", display, "pid must be positive");
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw op_error("parse", display, e.what());
  }
}

std::string rfc3339_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  // The buffer fits the format's 20 characters and the terminator: it cannot fail.
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace kcm
