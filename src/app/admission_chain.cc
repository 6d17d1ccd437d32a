#include "app/admission_chain.h"

namespace closedloop {

StatusOr<std::unique_ptr<AdmissionChain>> InstallAdmissions(const Config& config,
                                                            const Clock& clock,
                                                            MetricsRegistry& metrics,
                                                            HttpServer& server) {
  auto chain = std::make_unique<AdmissionChain>();
  if (RateLimitAdmission::Enabled(config.rate_limit, config.auth.enabled)) {
    chain->rate_limits = std::make_unique<RateLimitAdmission>(config.rate_limit, clock, metrics);
  }
  if (config.auth.enabled) {
    ASSIGN_OR_RETURN(chain->auth, BuildAuth(config, clock, metrics));
    if (RateLimitAdmission* limits = chain->rate_limits.get()) {
      server.AddAdmission(limits->failed_auth_check());
      chain->auth.admission->SetFailureListener(
          [limits](std::string_view client_ip) { limits->OnAuthFailure(client_ip); });
    }
    server.AddAdmission(chain->auth.admission.get());
  }
  if (chain->rate_limits) server.AddAdmission(chain->rate_limits.get());
  return chain;
}

}  // namespace closedloop
