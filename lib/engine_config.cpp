#include "engine_config.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "error.h"
#include "fs.h"
#include "json.h"

extern char** environ;

namespace kcm {

namespace {

constexpr std::string_view kEngines = "containerd, docker, podman or crio";

// --- the command line ------------------------------------------------------------------

Engine parse_engine(const std::string& name) {
  if (name == "containerd") return Engine::kContainerd;
  if (name == "docker") return Engine::kDocker;
  if (name == "podman") return Engine::kPodman;
  if (name == "crio" || name == "cri-o") return Engine::kCrio;
  throw usage_error("unknown engine " + quote(name) + ": expected " + std::string(kEngines));
}

// The value of `--name=value` or `--name value` at args[i]; advances i past it.
std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& i,
                                        std::string_view name) {
  const std::string& arg = args[i];
  const std::string flag = "--" + std::string(name);
  std::string value;
  if (arg == flag) {
    if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
      throw usage_error("option " + flag + " needs a value");
    }
    value = args[++i];
  } else if (arg.rfind(flag + "=", 0) == 0) {
    value = arg.substr(flag.size() + 1);
  } else {
    return std::nullopt;
  }
  if (value.empty()) throw usage_error("option " + flag + " needs a non-empty value");
  return value;
}

std::string absolute_path_option(const std::string& value, std::string_view name) {
  if (value[0] != '/') {
    throw usage_error("option --" + std::string(name) + " needs an absolute path, not " +
                      quote(value));
  }
  return value;
}

// --- TOML, as far as kcm edits it ----------------------------------------------------------

Error toml_error(const std::string& display, std::string_view text, std::size_t pos,
                 std::string_view what) {
  const auto line =
      1 + std::count(text.begin(),
                     text.begin() + static_cast<std::ptrdiff_t>(std::min(pos, text.size())), '\n');
  return op_error("parse", display, "line " + std::to_string(line) + ": " + std::string(what));
}

// Joins the parts of a dotted key: a quoted part may hold a '.'.
constexpr char kKeySeparator = '\x1f';

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::size_t skip_blanks(std::string_view t, std::size_t p) {
  while (p < t.size() && is_blank(t[p])) ++p;
  return p;
}

std::size_t skip_comment(std::string_view t, std::size_t p) {
  while (p < t.size() && t[p] != '\n') ++p;
  return p;
}

// Past a string starting at t[p] (one of " ' """ '''); `value`, when given, gets its
// text with the escapes kcm writes decoded (\\ \" and the one-letter ones).
std::size_t skip_toml_string(std::string_view t, std::size_t p, const std::string& display,
                             std::string* value = nullptr) {
  const char q = t[p];
  const bool multi = t.substr(p, 3) == std::string(3, q);
  std::size_t i = p + (multi ? 3 : 1);
  std::string out;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (!multi && c == '\n') break;
    if (c == '\\' && q == '"' && i + 1 < t.size()) {
      const char e = t[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      continue;
    }
    if (c == q && (!multi || t.substr(i, 3) == std::string(3, q))) {
      std::size_t end = i + (multi ? 3 : 1);
      // """a"""" ends with the extra quotes inside the string.
      for (int extra = 0; multi && extra < 2 && end < t.size() && t[end] == q; ++extra) ++end;
      if (value != nullptr) *value = out;
      return end;
    }
    out += c;
  }
  throw toml_error(display, t, p, "unterminated string");
}

// Past the value at t[p]: a string, an array or inline table (brackets matched, strings
// and comments skipped), or a scalar up to the end of the line or a comment.
std::size_t skip_toml_value(std::string_view t, std::size_t p, const std::string& display) {
  if (p >= t.size()) throw toml_error(display, t, p, "missing value");
  if (t[p] == '"' || t[p] == '\'') return skip_toml_string(t, p, display);
  if (t[p] == '[' || t[p] == '{') {
    int depth = 0;
    for (std::size_t i = p; i < t.size();) {
      const char c = t[i];
      if (c == '"' || c == '\'') {
        i = skip_toml_string(t, i, display);
        continue;
      }
      if (c == '#') {
        i = skip_comment(t, i);
        continue;
      }
      if (c == '[' || c == '{') ++depth;
      if ((c == ']' || c == '}') && --depth == 0) return i + 1;
      ++i;
    }
    throw toml_error(display, t, p, "unterminated array or inline table");
  }
  std::size_t end = p;
  while (end < t.size() && t[end] != '\n' && t[end] != '#') ++end;
  while (end > p && (is_blank(t[end - 1]) || t[end - 1] == '\r')) --end;
  return end;
}

// A top-level `key = value` statement.
struct TomlStatement {
  std::string key;  // dotted parts joined with kKeySeparator, quoted parts decoded
  std::size_t line_start = 0, value_start = 0, value_end = 0;
  std::size_t line_end = 0;  // past its newline, or the end of the text
};

std::size_t parse_toml_key(std::string_view t, std::size_t p, const std::string& display,
                           std::string& key) {
  for (;;) {
    p = skip_blanks(t, p);
    if (p < t.size() && (t[p] == '"' || t[p] == '\'')) {
      std::string part;
      p = skip_toml_string(t, p, display, &part);
      key += part;
    } else {
      const std::size_t start = p;
      while (p < t.size() &&
             (std::isalnum(static_cast<unsigned char>(t[p])) != 0 || t[p] == '_' || t[p] == '-')) {
        ++p;
      }
      if (p == start) throw toml_error(display, t, p, "expected a key");
      key += t.substr(start, p - start);
    }
    p = skip_blanks(t, p);
    if (p >= t.size() || t[p] != '.') return p;
    key += kKeySeparator;
    ++p;
  }
}

struct TomlDocument {
  std::vector<TomlStatement> top_level;  // the statements before the first table header
  std::vector<std::string> headers;      // every [table] and [[array]] key, in order
};

// Follows the document line by line: statements (their values skipped whole, so that a
// multi-line string or array is never read as lines), comments and table headers.
TomlDocument scan_toml(std::string_view t, const std::string& display) {
  TomlDocument doc;
  std::size_t p = 0;
  while (p < t.size()) {
    const std::size_t line_start = p;
    p = skip_blanks(t, p);
    if (p >= t.size()) break;
    if (t[p] == '\n' || t[p] == '\r') {
      ++p;
      continue;
    }
    if (t[p] == '#') {
      p = skip_comment(t, p);
      continue;
    }
    TomlStatement s;
    s.line_start = line_start;
    if (t[p] == '[') {
      const bool array = p + 1 < t.size() && t[p + 1] == '[';
      p = parse_toml_key(t, p + (array ? 2 : 1), display, s.key);
      for (int i = 0; i < (array ? 2 : 1); ++i, ++p) {
        if (p >= t.size() || t[p] != ']') throw toml_error(display, t, p, "expected ']'");
      }
      doc.headers.push_back(s.key);
      s.value_end = p;
    } else {
      p = parse_toml_key(t, p, display, s.key);
      if (p >= t.size() || t[p] != '=') throw toml_error(display, t, p, "expected '=' after a key");
      s.value_start = skip_blanks(t, p + 1);
      s.value_end = skip_toml_value(t, s.value_start, display);
    }
    p = skip_blanks(t, s.value_end);
    if (p < t.size() && t[p] == '#') p = skip_comment(t, p);
    if (p < t.size() && t[p] == '\r') ++p;
    if (p < t.size() && t[p] != '\n') throw toml_error(display, t, p, "expected a new line");
    s.line_end = std::min(p + 1, t.size());
    p = s.line_end;
    if (doc.headers.empty() && s.value_start != 0) doc.top_level.push_back(std::move(s));
  }
  return doc;
}

const TomlStatement* find_statement(const TomlDocument& doc, std::string_view key) {
  for (const auto& s : doc.top_level) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

// A TOML basic string holding `s`; paths with control characters are refused.
std::string toml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw usage_error("path " + quote(s) + " holds a control character");
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string replaced(std::string_view t, std::size_t from, std::size_t to, std::string_view with) {
  std::string out(t.substr(0, from));
  out += with;
  out += t.substr(to);
  return out;
}

constexpr std::string_view kBlockBegin = "# >>> kcm-runtime configure --engine=containerd";
constexpr std::string_view kBlockEnd = "# <<< kcm-runtime configure\n";

// kcm's block in containerd's config, from its first line to past its last.
std::optional<std::pair<std::size_t, std::size_t>> find_block(std::string_view t) {
  for (std::size_t at = t.find(kBlockBegin); at != std::string_view::npos;
       at = t.find(kBlockBegin, at + 1)) {
    if (at != 0 && t[at - 1] != '\n') continue;
    const auto end = t.find(kBlockEnd, at);
    if (end == std::string_view::npos) return std::nullopt;
    return std::make_pair(at, end + kBlockEnd.size());
  }
  return std::nullopt;
}

std::string containerd_block(const std::string& cri, const std::string& runtime_path,
                             bool with_runc) {
  const std::string table = "plugins.\"" + cri + "\".containerd.runtimes.";
  std::string block =
      std::string(kBlockBegin) +
      ": the CRI runtime handler \"kcm\"\n"
      "# (docs/runtime.md); `kcm-runtime unconfigure --engine=containerd` removes this block.\n"
      "[" +
      table +
      "kcm]\n"
      "  runtime_type = \"io.containerd.runc.v2\"\n"
      "  # The CRI plugin copies only the pod annotations listed here into each container's\n"
      "  # OCI spec; without this kcm-runtime never sees kcm.intel.com/pool.\n"
      "  pod_annotations = [\"kcm.intel.com/*\"]\n"
      "  [" +
      table +
      "kcm.options]\n"
      "    BinaryName = " +
      toml_quote(runtime_path) + "\n";
  if (with_runc) {
    block +=
        "# A config that defines a runtime loses containerd's default one: runc, as by default.\n"
        "[" +
        table +
        "runc]\n"
        "  runtime_type = \"io.containerd.runc.v2\"\n";
  }
  return block + std::string(kBlockEnd);
}

// --- JSON, as far as kcm edits daemon.json ---------------------------------------------------

struct JsonMember {
  std::string key;
  std::size_t key_start = 0, value_start = 0, value_end = 0;
};

struct JsonObject {
  std::size_t open = 0, close = 0;
  std::vector<JsonMember> members;
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_json_space(std::string_view t, std::size_t p) {
  while (p < t.size() && is_json_space(t[p])) ++p;
  return p;
}

std::size_t skip_json_string(std::string_view t, std::size_t p) {
  for (++p; p < t.size() && t[p] != '"'; ++p) {
    if (t[p] == '\\') ++p;
  }
  return p + 1;
}

// Past the value at t[p]. The text was validated by nlohmann first, so this only has to
// follow valid JSON.
std::size_t skip_json_value(std::string_view t, std::size_t p) {
  if (t[p] == '"') return skip_json_string(t, p);
  if (t[p] == '{' || t[p] == '[') {
    int depth = 0;
    for (std::size_t i = p; i < t.size();) {
      if (t[i] == '"') {
        i = skip_json_string(t, i);
        continue;
      }
      if (t[i] == '{' || t[i] == '[') ++depth;
      if ((t[i] == '}' || t[i] == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return t.size();
  }
  while (p < t.size() && !is_json_space(t[p]) && t[p] != ',' && t[p] != '}' && t[p] != ']') ++p;
  return p;
}

JsonObject scan_json_object(std::string_view t, std::size_t open) {
  JsonObject o;
  o.open = open;
  std::size_t p = open + 1;
  for (;;) {
    p = skip_json_space(t, p);
    if (p >= t.size() || t[p] == '}') {
      o.close = p;
      return o;
    }
    JsonMember m;
    m.key_start = p;
    p = skip_json_string(t, p);
    m.key = nlohmann::json::parse(t.substr(m.key_start, p - m.key_start)).get<std::string>();
    p = skip_json_space(t, p) + 1;  // ':'
    m.value_start = skip_json_space(t, p);
    m.value_end = skip_json_value(t, m.value_start);
    o.members.push_back(m);
    p = skip_json_space(t, m.value_end);
    if (p < t.size() && t[p] == ',') ++p;
  }
}

// The index of `key` in `o`; an Error when the key appears twice, since which one Docker
// reads is not kcm's to guess.
std::optional<std::size_t> find_member(const JsonObject& o, std::string_view key,
                                       const std::string& display) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < o.members.size(); ++i) {
    if (o.members[i].key != key) continue;
    if (found) throw op_error("parse", display, "key " + quote(key) + " appears twice");
    found = i;
  }
  return found;
}

// The blanks that begin the line holding `pos`.
std::string line_indent(std::string_view t, std::size_t pos) {
  std::size_t start = pos;
  while (start > 0 && t[start - 1] != '\n') --start;
  std::size_t end = start;
  while (end < pos && is_blank(t[end])) ++end;
  return std::string(t.substr(start, end - start));
}

std::string insert_member(std::string_view t, const JsonObject& o, const std::string& member) {
  if (o.members.empty()) {
    const std::string outer = line_indent(t, o.open);
    return replaced(t, o.open + 1, o.close, "\n" + outer + "  " + member + "\n" + outer);
  }
  std::string separator(t.substr(o.open + 1, o.members[0].key_start - o.open - 1));
  if (separator.empty()) separator = " ";
  return replaced(t, o.members.back().value_end, o.members.back().value_end,
                  "," + separator + member);
}

std::string remove_member(std::string_view t, const JsonObject& o, std::size_t i) {
  const auto& m = o.members;
  if (m.size() == 1) return replaced(t, o.open + 1, o.close, "");
  if (i + 1 < m.size()) return replaced(t, m[i].key_start, m[i + 1].key_start, "");
  return replaced(t, m[i - 1].value_end, m[i].value_end, "");
}

nlohmann::ordered_json parse_daemon_json(std::string_view text, const std::string& display) {
  auto doc = parse_ordered_json(text, display);
  if (!doc.is_object()) throw op_error("parse", display, "not a JSON object");
  if (doc.contains("runtimes") && !doc["runtimes"].is_object()) {
    throw op_error("parse", display, "\"runtimes\" is not an object");
  }
  return doc;
}

std::string json_quote(const std::string& s) { return nlohmann::json(s).dump(); }

std::string kcm_runtime_value(const std::string& runtime_path) {
  return "{\"path\": " + json_quote(runtime_path) + "}";
}

// --- the plan ----------------------------------------------------------------------------

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string default_main_config(Engine engine) {
  switch (engine) {
    case Engine::kContainerd:
      return "/etc/containerd/config.toml";
    case Engine::kDocker:
      return "/etc/docker/daemon.json";
    case Engine::kPodman:
      return "/etc/containers/containers.conf";
    case Engine::kCrio:
      return "/etc/crio/crio.conf";
  }
  return "";
}

int containerd_version(const std::optional<std::string>& main, std::optional<int> installed_major,
                       const std::string& display) {
  std::optional<int> version;
  if (main) version = toml_config_version(*main, display);
  if (!version && main) {
    // containerd reads a config without `version` as version 1, whose CRI plugin is
    // another table: a block added there would register nothing.
    throw op_error("configure containerd", display,
                   "it has no `version` line, so containerd reads it as config version 1, "
                   "which kcm-runtime does not write; add `version = 2` (containerd 1.x) or "
                   "`version = 3` (2.x) at its top, renaming its plugin tables to match, or run "
                   "`containerd config migrate`");
  }
  if (!version) return containerd_config_version_for(installed_major.value_or(1));
  if (*version != 2 && *version != 3) {
    throw op_error("configure containerd", display,
                   "config version " + std::to_string(*version) +
                       ": kcm-runtime writes versions 2 and 3 only; migrate the config first");
  }
  return *version;
}

std::vector<FileChange> plan_containerd(const EngineCommand& c, const std::string& runtime,
                                        std::optional<int> installed_major,
                                        const FileReader& read) {
  const std::string path = engine_files(c.engine, c.config).main;
  const auto text = read(path);
  FileChange change{path, text, text, ""};
  if (c.configure) {
    const int version = containerd_version(text, installed_major, path);
    change.after = text ? containerd_add_runtime(*text, version, runtime, path)
                        : containerd_new_main_config(version, runtime);
    change.what = (change.after == text ? "already registers" : "registers") +
                  std::string(" the runtime handler kcm (config version ") +
                  std::to_string(version) + ", BinaryName " + quote(runtime) + ")";
    return {change};
  }
  if (!text) {
    change.what = "does not exist";
    return {change};
  }
  change.after = containerd_remove_runtime(*text, path);
  const auto version = toml_config_version(*change.after, path);
  if (change.after != text && version &&
      change.after ==
          containerd_remove_runtime(containerd_new_main_config(*version, runtime), path)) {
    change.after = std::nullopt;
    change.what = "held only what configure wrote";
  } else {
    change.what = change.after == text ? "has no kcm block" : "without the runtime handler kcm";
  }
  return {change};
}

std::vector<FileChange> plan_docker(const EngineCommand& c, const std::string& runtime,
                                    const FileReader& read) {
  const std::string path = engine_files(c.engine, c.config).main;
  const auto text = read(path);
  FileChange change{path, text, text, ""};
  if (c.configure) {
    change.after = text ? docker_add_runtime(*text, runtime, path) : docker_new_config(runtime);
    change.what = change.after == text ? "runtimes.kcm is already " + quote(runtime)
                                       : "runtimes.kcm.path = " + quote(runtime);
    return {change};
  }
  if (!text) {
    change.what = "does not exist";
    return {change};
  }
  const auto doc = parse_daemon_json(*text, path);
  const auto path_in_file = doc.value("/runtimes/kcm/path"_json_pointer, nlohmann::ordered_json());
  if (path_in_file.is_string() && *text == docker_new_config(path_in_file.get<std::string>())) {
    change.after = std::nullopt;
    change.what = "held only what configure wrote";
    return {change};
  }
  change.after = docker_remove_runtime(*text, path);
  change.what = change.after == text ? "has no runtimes.kcm" : "without runtimes.kcm";
  return {change};
}

std::vector<FileChange> plan_dropin(const EngineCommand& c, const std::string& runtime,
                                    const FileReader& read) {
  const std::string path = engine_files(c.engine, c.config).dropin;
  const auto text = read(path);
  FileChange change{path, text, std::nullopt, ""};
  if (c.configure) {
    change.after = c.engine == Engine::kPodman ? podman_dropin(runtime) : crio_dropin(runtime);
    change.what = "the runtime kcm (" + quote(runtime) + ")";
  } else {
    change.what = text ? "the runtime kcm" : "does not exist";
  }
  return {change};
}

// --- printing ----------------------------------------------------------------------------

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto len = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(0, len));
    text.remove_prefix(len);
  }
  return lines;
}

void print_line(std::ostringstream& out, char mark, std::string_view line) {
  out << mark << line;
  if (line.empty() || line.back() != '\n') out << "\n";
}

// One hunk from the first to the last line that differ: the edits touch one place.
void print_hunk(std::ostringstream& out, std::string_view before, std::string_view after) {
  const auto a = lines_of(before);
  const auto b = lines_of(after);
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  const std::size_t removed = a.size() - head - tail;
  const std::size_t added = b.size() - head - tail;
  out << "@@ -" << head + (removed ? 1 : 0) << "," << removed << " +" << head + (added ? 1 : 0)
      << "," << added << " @@\n";
  for (std::size_t i = head; i < head + removed; ++i) print_line(out, '-', a[i]);
  for (std::size_t i = head; i < head + added; ++i) print_line(out, '+', b[i]);
}

std::string_view apply_hint(Engine engine) {
  switch (engine) {
    case Engine::kContainerd:
      return "restart containerd to apply it";
    case Engine::kDocker:
      return "reload docker (systemctl reload docker) to apply it";
    case Engine::kPodman:
      return "podman reads it at its next command";
    case Engine::kCrio:
      return "restart crio to apply it";
  }
  return "";
}

// --- writing -----------------------------------------------------------------------------

// The file to replace: a symlinked config is edited where it points, keeping the link.
std::string write_target(const std::string& path) {
  char resolved[PATH_MAX];
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) &&
      ::realpath(path.c_str(), resolved) != nullptr) {
    return resolved;
  }
  return path;
}

void ensure_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return;
  if (::mkdir(dir.c_str(), 0755) != 0) throw sys_error("create directory", dir, errno);
}

void write_change(const FileChange& c) {
  const std::string target = write_target(c.path);
  const std::string dir = dirname_of(target);
  if (!c.after) {
    const UniqueFd fd = open_dir(dir);
    remove_file_at(fd.get(), basename_of(target), target);
    return;
  }
  ensure_dir(dir);
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;
  const UniqueFd fd = open_dir(dir);
  write_file_atomic(fd.get(), basename_of(target), *c.after, target, mode);
}

std::optional<std::string> find_on_path(const std::string& name, const std::string& path_env) {
  std::size_t start = 0;
  while (start <= path_env.size()) {
    auto end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    const std::string dir = path_env.substr(start, end - start);
    if (!dir.empty()) {
      const std::string candidate = join_path(dir, name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::string_view engine_name(Engine engine) {
  switch (engine) {
    case Engine::kContainerd:
      return "containerd";
    case Engine::kDocker:
      return "docker";
    case Engine::kPodman:
      return "podman";
    case Engine::kCrio:
      return "crio";
  }
  return "";
}

bool is_engine_command(std::string_view arg) { return arg == "configure" || arg == "unconfigure"; }

EngineCommand parse_engine_command(std::string_view command, const std::vector<std::string>& args) {
  EngineCommand c;
  c.configure = command == "configure";
  bool engine_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      return c;
    }
    if (arg == "--dry-run") {
      c.dry_run = true;
    } else if (auto engine = option_value(args, i, "engine")) {
      c.engine = parse_engine(*engine);
      engine_given = true;
    } else if (auto config = option_value(args, i, "config")) {
      c.config = absolute_path_option(*config, "config");
    } else if (auto runtime = option_value(args, i, "runtime-path")) {
      c.runtime_path = absolute_path_option(*runtime, "runtime-path");
    } else {
      throw usage_error(std::string(command) + ": unknown argument " + quote(arg) +
                        " (see kcm-runtime " + std::string(command) + " --help)");
    }
  }
  if (!engine_given) {
    throw usage_error(std::string(command) +
                      ": option --engine is required: " + std::string(kEngines));
  }
  return c;
}

std::string engine_command_help(std::string_view command) {
  const bool configure = command == "configure";
  std::string help = "Usage: kcm-runtime " + std::string(command) +
                     " --engine=ENGINE [--config=PATH]" +
                     (configure ? " [--runtime-path=PATH]" : "") + " [--dry-run]\n\n";
  help += configure ? "Registers kcm-runtime with a container engine as the runtime \"kcm\".\n"
                    : "Removes what `kcm-runtime configure` wrote for an engine.\n";
  help +=
      "\nOptions:\n"
      "  --engine=ENGINE      containerd, docker, podman or crio\n"
      "  --config=PATH        the engine's main config file, when not at its default:\n"
      "                         containerd  /etc/containerd/config.toml (gets kcm's block\n"
      "                                     at its end)\n"
      "                         docker      /etc/docker/daemon.json (gets runtimes.kcm)\n"
      "                         podman      /etc/containers/containers.conf (not edited;\n"
      "                                     kcm's drop-in is PATH.d/kcm.conf)\n"
      "                         crio        /etc/crio/crio.conf (not edited; kcm's drop-in\n"
      "                                     is PATH.d/kcm.conf)\n";
  if (configure) {
    help += "  --runtime-path=PATH  the kcm-runtime to register (default: this program's path)\n";
  }
  help +=
      "  --dry-run            print what would change and write nothing\n"
      "  -h, --help           print this help\n\n"
      "Prints each file it changes with the lines changed; running it twice changes\n"
      "nothing the second time. Exit status: 0 done, 1 a config kcm cannot read, parse or\n"
      "write (nothing is written), 2 a usage error. See docs/runtime.md.\n";
  return help;
}

std::optional<int> toml_config_version(std::string_view text, const std::string& display) {
  const auto scanned = scan_toml(text, display);  // `s` points into it
  const TomlStatement* s = find_statement(scanned, "version");
  if (s == nullptr) return std::nullopt;
  const std::string value(text.substr(s->value_start, s->value_end - s->value_start));
  if (value.empty() || value.size() > 3 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw toml_error(display, text, s->value_start, "version " + quote(value) + " is not a number");
  }
  return std::stoi(value);
}

std::string containerd_add_runtime(std::string_view text, int version,
                                   const std::string& runtime_path, const std::string& display) {
  const auto block = find_block(text);
  const std::string rest =
      block ? replaced(text, block->first, block->second, "") : std::string(text);
  const std::string cri =
      version >= 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri";
  const std::string runtimes = std::string("plugins") + kKeySeparator + cri + kKeySeparator +
                               "containerd" + kKeySeparator + "runtimes" + kKeySeparator;
  const auto defines = [&](const std::string& name) {
    const auto headers = scan_toml(rest, display).headers;
    return std::any_of(headers.begin(), headers.end(), [&](const std::string& h) {
      return h == runtimes + name || h.rfind(runtimes + name + kKeySeparator, 0) == 0;
    });
  };
  if (defines("kcm")) {
    throw op_error("configure containerd", display,
                   "it defines the runtime \"kcm\" outside kcm-runtime's block; remove that "
                   "table first");
  }
  std::string mine = containerd_block(cri, runtime_path, !defines("runc"));
  if (block) return replaced(text, block->first, block->second, mine);
  if (text.empty()) return mine;
  return std::string(text) + (text.back() == '\n' ? "\n" : "\n\n") + mine;
}

std::string containerd_remove_runtime(std::string_view text, const std::string& display) {
  scan_toml(text, display);  // refuse what kcm cannot follow, as configure does
  const auto block = find_block(text);
  if (!block) return std::string(text);
  std::size_t from = block->first;
  if (from >= 2 && text[from - 1] == '\n' && text[from - 2] == '\n') --from;
  return replaced(text, from, block->second, "");
}

std::string containerd_new_main_config(int version, const std::string& runtime_path) {
  return containerd_add_runtime(
      "# Written by `kcm-runtime configure --engine=containerd`, as there was no config;\n"
      "# `kcm-runtime unconfigure --engine=containerd` removes it while it reads so.\n"
      "version = " +
          std::to_string(version) + "\n",
      version, runtime_path, "");
}

int containerd_config_version_for(int major) { return major >= 2 ? 3 : 2; }

std::optional<int> parse_containerd_version(std::string_view output) {
  std::istringstream words{std::string(output.substr(0, output.find('\n')))};
  std::string word;
  for (int i = 0; words >> word; ++i) {
    if (i < 2) continue;  // "containerd <module>"
    const std::size_t digits = word[0] == 'v' ? 1 : 0;
    if (digits >= word.size() || word[digits] < '0' || word[digits] > '9') return std::nullopt;
    return std::atoi(word.c_str() + digits);
  }
  return std::nullopt;
}

std::string docker_add_runtime(std::string_view text, const std::string& runtime_path,
                               const std::string& display) {
  const auto doc = parse_daemon_json(text, display);
  const JsonObject top = scan_json_object(text, skip_json_space(text, 0));
  const auto runtimes = find_member(top, "runtimes", display);
  if (!runtimes) {
    return insert_member(text, top,
                         "\"runtimes\": {\"kcm\": " + kcm_runtime_value(runtime_path) + "}");
  }
  const JsonObject obj = scan_json_object(text, top.members[*runtimes].value_start);
  const auto kcm = find_member(obj, "kcm", display);
  if (!kcm) return insert_member(text, obj, "\"kcm\": " + kcm_runtime_value(runtime_path));
  if (doc["runtimes"]["kcm"] == nlohmann::ordered_json{{"path", runtime_path}}) {
    return std::string(text);
  }
  const JsonMember& m = obj.members[*kcm];
  return replaced(text, m.value_start, m.value_end, kcm_runtime_value(runtime_path));
}

std::string docker_remove_runtime(std::string_view text, const std::string& display) {
  const auto doc = parse_daemon_json(text, display);
  const JsonObject top = scan_json_object(text, skip_json_space(text, 0));
  const auto runtimes = find_member(top, "runtimes", display);
  if (!runtimes) return std::string(text);
  const JsonObject obj = scan_json_object(text, top.members[*runtimes].value_start);
  const auto kcm = find_member(obj, "kcm", display);
  if (!kcm) return std::string(text);
  if (doc.contains("default-runtime") && doc["default-runtime"] == "kcm") {
    throw op_error("unconfigure docker", display,
                   "\"default-runtime\" is \"kcm\"; Docker would not start without it: "
                   "choose another default runtime first");
  }
  if (obj.members.size() == 1) return remove_member(text, top, *runtimes);
  return remove_member(text, obj, *kcm);
}

std::string docker_new_config(const std::string& runtime_path) {
  return "{\n  \"runtimes\": {\n    \"kcm\": {\n      \"path\": " + json_quote(runtime_path) +
         "\n    }\n  }\n}\n";
}

std::string podman_dropin(const std::string& runtime_path) {
  return "# Written by `kcm-runtime configure --engine=podman`; `kcm-runtime unconfigure\n"
         "# --engine=podman` removes it (docs/runtime.md). Run containers with\n"
         "# `podman run --runtime kcm --annotation kcm.intel.com/pool=dataplane ...`.\n"
         "[engine.runtimes]\n"
         "kcm = [" +
         toml_quote(runtime_path) + "]\n";
}

std::string crio_dropin(const std::string& runtime_path) {
  return "# Written by `kcm-runtime configure --engine=crio`; `kcm-runtime unconfigure\n"
         "# --engine=crio` removes it (docs/runtime.md). The runtime handler \"kcm\" (a\n"
         "# RuntimeClass with handler: kcm) runs containers through kcm-runtime.\n"
         "[crio.runtime.runtimes.kcm]\n"
         "runtime_path = " +
         toml_quote(runtime_path) +
         "\n"
         "runtime_type = \"oci\"\n";
}

EngineFiles engine_files(Engine engine, const std::string& config) {
  const std::string main = config.empty() ? default_main_config(engine) : config;
  switch (engine) {
    case Engine::kContainerd:
    case Engine::kDocker:
      return {main, ""};
    case Engine::kPodman:
    case Engine::kCrio:
      return {main, main + ".d/kcm.conf"};
  }
  return {main, ""};
}

std::vector<FileChange> plan_engine_change(const EngineCommand& command,
                                           const std::string& runtime_path,
                                           std::optional<int> installed_major,
                                           const FileReader& read) {
  switch (command.engine) {
    case Engine::kContainerd:
      return plan_containerd(command, runtime_path, installed_major, read);
    case Engine::kDocker:
      return plan_docker(command, runtime_path, read);
    case Engine::kPodman:
    case Engine::kCrio:
      return plan_dropin(command, runtime_path, read);
  }
  return {};
}

std::string describe_changes(const EngineCommand& command, const std::vector<FileChange>& changes) {
  std::ostringstream out;
  const bool dry = command.dry_run;
  bool changed = false;
  for (const auto& c : changes) {
    if (c.before == c.after) {
      out << "unchanged " << c.path << ": " << c.what << "\n";
      continue;
    }
    changed = true;
    if (!c.after) {
      out << (dry ? "would remove " : "removed ") << c.path << ": " << c.what << "\n";
      continue;
    }
    out << (dry ? (c.before ? "would edit " : "would create ")
                : (c.before ? "edited " : "created "))
        << c.path << ": " << c.what << "\n";
    print_hunk(out, c.before.value_or(""), *c.after);
  }
  const std::string engine(engine_name(command.engine));
  if (!changed) {
    out << "nothing to change: " << engine
        << (command.configure ? " is already configured for kcm\n" : " has no kcm configuration\n");
  } else if (dry) {
    out << "dry run: nothing written\n";
  } else {
    out << apply_hint(command.engine) << "\n";
  }
  return out.str();
}

void apply_changes(const std::vector<FileChange>& changes) {
  for (const auto& c : changes) {
    if (c.before != c.after) write_change(c);
  }
}

std::optional<int> installed_containerd_major(const std::string& path_env) {
  const auto containerd = find_on_path("containerd", path_env);
  if (!containerd) return std::nullopt;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  std::string arg0 = *containerd;
  std::string arg1 = "--version";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, containerd->c_str(), &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  write_end = UniqueFd();
  if (err != 0) return std::nullopt;
  std::string output;
  char buf[512];
  for (ssize_t n; output.size() < 4096 && (n = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return parse_containerd_version(output);
}

int run_engine_command(std::string_view command, const std::vector<std::string>& args,
                       const std::string& path_env, std::ostream& out) {
  const EngineCommand c = parse_engine_command(command, args);
  if (c.help) {
    out << engine_command_help(command);
    return kExitOk;
  }
  const std::string runtime = c.runtime_path.empty() ? self_exe_path() : c.runtime_path;
  std::optional<int> installed;
  if (c.engine == Engine::kContainerd && c.configure)
    installed = installed_containerd_major(path_env);
  const auto changes = plan_engine_change(c, runtime, installed, [](const std::string& path) {
    return if_found([&] { return read_file(path); });
  });
  if (!c.dry_run) apply_changes(changes);
  out << describe_changes(c, changes);
  return kExitOk;
}

}  // namespace kcm
