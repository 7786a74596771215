// Fakes for the seams of k8s_http.h: a clock that never sleeps and a transport that
// answers from a script. Test-only code.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "k8s_http.h"

namespace kcm::testing_support {

// Time stands still until a sleep_for() or advance(); every sleep is recorded.
class FakeClock final : public Clock {
 public:
  TimePoint now() override { return now_; }
  void sleep_for(std::chrono::milliseconds duration) override {
    sleeps.push_back(duration);
    now_ += duration;
  }
  void advance(std::chrono::milliseconds duration) { now_ += duration; }

  std::vector<std::chrono::milliseconds> sleeps;

 private:
  TimePoint now_{};
};

// Answers each request with the next scripted reply, or with `fallback` once the script
// is used up (a failed test when there is none); records every request.
class FakeTransport final : public HttpTransport {
 public:
  using Reply = std::function<HttpResponse(const HttpRequest&)>;

  // A response with `status` and `body` (and headers).
  FakeTransport& respond(long status, std::string body = "", HttpHeaders headers = {}) {
    script_.push_back([=](const HttpRequest&) { return HttpResponse{status, headers, body}; });
    return *this;
  }
  // No response: TransportError("<method> <path>: <cause>", transient).
  FakeTransport& fail(std::string cause, bool transient) {
    script_.push_back([=](const HttpRequest& r) -> HttpResponse {
      throw TransportError(r.method + " " + r.path + ": " + cause, transient);
    });
    return *this;
  }
  FakeTransport& reply(Reply reply) {
    script_.push_back(std::move(reply));
    return *this;
  }

  HttpResponse send(const HttpRequest& request) override {
    requests.push_back(request);
    if (script_.empty()) {
      if (fallback) return fallback(request);
      ADD_FAILURE() << "unexpected request " << request.method << " " << request.path;
      throw TransportError(request.method + " " + request.path + ": not scripted", false);
    }
    Reply next = std::move(script_.front());
    script_.pop_front();
    return next(request);
  }

  bool script_used_up() const { return script_.empty(); }

  // "GET /version", one per request sent.
  std::vector<std::string> request_lines() const {
    std::vector<std::string> lines;
    for (const HttpRequest& r : requests) lines.push_back(r.method + " " + r.path);
    return lines;
  }

  std::vector<HttpRequest> requests;
  Reply fallback;

 private:
  std::deque<Reply> script_;
};

// The value of the header `name` of `request`, "" when it has none.
inline std::string header_of(const HttpRequest& request, const std::string& name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace kcm::testing_support
