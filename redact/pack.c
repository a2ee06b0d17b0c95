/*
 * The built-in rule pack: token formats that leak in practice, written
 * from each provider's published format. Every rule names the keywords
 * that must occur near a match (the prefilter runs a rule only on lines
 * with one of them, case-insensitively), and every quantifier is bounded
 * so a window of REDACT_WINDOW_OVERLAP bytes holds any match.
 *
 * Rules that need context (generic assignments, AWS secret keys) put the
 * secret in a capture group and leave the key name unmasked. Generic
 * rules have checks (rules_check_secret) that keep them quiet on ordinary
 * log text: an assignment shape, a secret-like length and entropy, and no
 * placeholders.
 */
#include <stddef.h>

#include "redact/internal.h"

/* A token's right edge: no further token character. */
#define END_B64URL	"(?![A-Za-z0-9_-])"
/* Assignment: optional closing quote of a key, then = : => := */
#define ASSIGN		"[\"']?\\s{0,4}(?:=|:=|=>|:)\\s{0,4}[\"']?"

const struct pack_rule redact_pack[] = {
	{ "anthropic-api-key", "sk-ant-api,sk-ant-admin",
	  "Anthropic API key (sk-ant-api03-..., sk-ant-admin01-...)",
	  "\\bsk-ant-(?:api|admin)\\d\\d-[A-Za-z0-9_-]{32,200}" END_B64URL,
	  0, CHECK_NONE },
	{ "anthropic-oauth-token", "sk-ant-oat,sk-ant-ort",
	  "Anthropic OAuth access or refresh token (sk-ant-oat01-, "
	  "sk-ant-ort01-)",
	  "\\bsk-ant-o[ar]t\\d\\d-[A-Za-z0-9_-]{32,200}" END_B64URL,
	  0, CHECK_NONE },
	{ "openai-api-key", "sk-",
	  "OpenAI API key (sk-proj-, sk-svcacct-, sk-admin-, legacy sk-)",
	  "(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-"
	  "[A-Za-z0-9_-]{20,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|"
	  "[A-Za-z0-9]{48})" END_B64URL,
	  0, CHECK_NONE },
	{ "github-token", "ghp_,gho_,ghu_,ghs_,ghr_",
	  "GitHub personal, OAuth, user-to-server, server-to-server or "
	  "refresh token",
	  "\\bgh[pousr]_[A-Za-z0-9]{36,251}\\b", 0, CHECK_NONE },
	{ "github-fine-grained-pat", "github_pat_",
	  "GitHub fine-grained personal access token",
	  "\\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\\b", 0, CHECK_NONE },
	{ "gitlab-token",
	  "glpat-,gldt-,glrt-,glptt-,glft-,glsoat-,glcbt-,glimt-,gloas-,"
	  "glagent-,glffct-,gr1348941",
	  "GitLab personal, deploy, runner, trigger, feed, OAuth and other "
	  "tokens",
	  "\\b(?:gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas|agent|ffct)-"
	  "[A-Za-z0-9_.-]{20,120}|GR1348941[A-Za-z0-9_-]{20,60})"
	  "(?![A-Za-z0-9_-])", 0, CHECK_NONE },
	{ "aws-access-key-id", "akia,asia,abia,acca,a3t",
	  "AWS access key id",
	  "\\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\\b",
	  0, CHECK_NONE },
	{ "aws-secret-access-key",
	  "aws_secret,aws-secret,secret_access_key,secret-access-key,"
	  "secretaccesskey,awssecret",
	  "AWS secret access key in an assignment",
	  "(?i:aws[_-]?secret[_-]?(?:access[_-]?)?key|secret[_-]?access[_-]?"
	  "key)" ASSIGN "([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
	  1, CHECK_ENTROPY },
	{ "aws-secret-key-near-id", "akia,asia",
	  "AWS secret access key on the same line as its key id",
	  "\\b(?:AKIA|ASIA)[A-Z2-7]{16}\\b[^\\n]{1,120}?(?<![A-Za-z0-9/+])"
	  "([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", 1, CHECK_ENTROPY },
	{ "google-api-key", "aiza",
	  "Google API key",
	  "\\bAIza[0-9A-Za-z_-]{35}" END_B64URL, 0, CHECK_NONE },
	{ "google-oauth-client-secret", "gocspx-",
	  "Google OAuth client secret",
	  "\\bGOCSPX-[A-Za-z0-9_-]{28}" END_B64URL, 0, CHECK_NONE },
	{ "google-oauth-token", "ya29.,1//0",
	  "Google OAuth access token (ya29.) or refresh token (1//0)",
	  "(?:\\bya29\\.[A-Za-z0-9_-]{20,2048}|(?<![A-Za-z0-9/])1//0"
	  "[A-Za-z0-9_-]{40,512})" END_B64URL, 0, CHECK_NONE },
	{ "gcp-service-account-key", "private_key",
	  "Private key inside a GCP service-account JSON document",
	  "\"private_key\"\\s{0,4}:\\s{0,4}\"(-----BEGIN[A-Z ]{0,40}PRIVATE "
	  "KEY-----[^\"]{16,16384}?)\"", 1, CHECK_NONE },
	{ "azure-connection-string",
	  "accountkey=,sharedaccesskey=,sharedaccesssignature=",
	  "Azure storage account key or shared access key in a connection "
	  "string",
	  "(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,100}={0,2})"
	  "(?![A-Za-z0-9+/=])", 1, CHECK_NONE },
	{ "azure-sas-token", "sig=",
	  "Azure shared access signature (sig= in a SAS URL)",
	  "(?<=[?&;])sig=([A-Za-z0-9%+/]{30,120}(?:%3D|%3d|=){0,2})",
	  1, CHECK_ENTROPY },
	{ "azure-client-secret", "0q~,1q~,2q~,3q~,4q~,5q~,6q~,7q~,8q~,9q~",
	  "Azure AD (Entra ID) application client secret",
	  "(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}"
	  "(?![A-Za-z0-9_~.-])", 0, CHECK_NONE },
	{ "slack-token", "xoxb-,xoxp-,xoxa-,xoxo-,xoxr-,xoxs-,xoxe-,xoxe.,xapp-",
	  "Slack bot, user, app, refresh or configuration token",
	  "\\b(?:xox[bpoasre]-[0-9A-Za-z-]{10,250}|xoxe\\.xox[bp]-\\d-"
	  "[A-Za-z0-9]{60,250}|xapp-\\d-[A-Z0-9]{8,20}-\\d{8,16}-"
	  "[a-f0-9]{32,80})" END_B64URL, 0, CHECK_NONE },
	{ "slack-webhook", "hooks.slack.com",
	  "Slack incoming webhook or workflow URL",
	  "https?://hooks\\.slack\\.com/(?:services|workflows|triggers)/"
	  "[A-Za-z0-9+/_-]{20,200}", 0, CHECK_NONE },
	{ "stripe-key", "sk_live_,sk_test_,rk_live_,rk_test_,whsec_",
	  "Stripe secret or restricted key, webhook signing secret",
	  "\\b(?:(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,247}|"
	  "whsec_[A-Za-z0-9+/=]{32,100})\\b", 0, CHECK_NONE },
	{ "twilio-api-key", "sk0,sk1,sk2,sk3,sk4,sk5,sk6,sk7,sk8,sk9,ska,skb,"
	  "skc,skd,ske,skf",
	  "Twilio API key SID (SK + 32 hex), which pairs with its secret",
	  "\\bSK[0-9a-f]{32}\\b", 0, CHECK_NONE },
	{ "twilio-auth-token", "twilio",
	  "Twilio auth token or API secret in an assignment",
	  "(?i:twilio)[A-Za-z0-9_.-]{0,20}?(?i:auth[_-]?token|api[_-]?secret|"
	  "secret)" ASSIGN "([0-9a-fA-F]{32}|[A-Za-z0-9]{32})\\b",
	  1, CHECK_NONE },
	{ "sendgrid-api-key", "sg.",
	  "SendGrid API key",
	  "\\bSG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}" END_B64URL,
	  0, CHECK_NONE },
	{ "mailchimp-api-key", "-us",
	  "Mailchimp API key (32 hex and the data centre)",
	  "\\b[0-9a-f]{32}-us\\d{1,2}\\b", 0, CHECK_NONE },
	{ "huggingface-token", "hf_,api_org_",
	  "Hugging Face user or organisation access token",
	  "\\b(?:hf_|api_org_)[A-Za-z]{34}\\b", 0, CHECK_ENTROPY },
	{ "npm-token", "npm_",
	  "npm access token",
	  "\\bnpm_[A-Za-z0-9]{36}\\b", 0, CHECK_NONE },
	{ "pypi-token", "pypi-ageichlwas5vcmc",
	  "PyPI API token",
	  "\\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}", 0, CHECK_NONE },
	{ "dockerhub-token", "dckr_pat_,dckr_oat_",
	  "Docker Hub personal or organisation access token",
	  "\\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{27,60}" END_B64URL,
	  0, CHECK_NONE },
	{ "heroku-api-key", "hrku-",
	  "Heroku API key (HRKU- format)",
	  "\\bHRKU-[A-Za-z0-9_-]{60}" END_B64URL, 0, CHECK_NONE },
	{ "heroku-api-key-legacy", "heroku",
	  "Heroku API key (UUID) in an assignment",
	  "(?i:heroku)[A-Za-z0-9_.-]{0,20}?(?i:api[_-]?key|token|secret)"
	  ASSIGN "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
	  "[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\\b", 1, CHECK_NONE },
	{ "shopify-token", "shpat_,shpca_,shppa_,shpss_",
	  "Shopify access token or shared secret",
	  "\\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\\b", 0, CHECK_NONE },
	{ "databricks-token", "dapi",
	  "Databricks personal access token",
	  "\\bdapi[a-f0-9]{32}(?:-\\d)?\\b", 0, CHECK_NONE },
	{ "datadog-api-key", "datadog,dd_api,dd-api,dd_app,dd-app",
	  "Datadog API or application key in an assignment or header",
	  "(?<![A-Za-z0-9])(?i:datadog|dd)[A-Za-z0-9_.-]{0,20}?"
	  "(?i:api|app(?:lication)?)[_-]?(?i:key)" ASSIGN
	  "([a-f0-9]{32}(?:[a-f0-9]{8})?)\\b", 1, CHECK_NONE },
	{ "cloudflare-api-token",
	  "cloudflare,cf_api,cf-api,cf_token,cf-token,cf_key,cf-key",
	  "Cloudflare API token or global API key in an assignment",
	  "(?<![A-Za-z0-9])(?i:cloudflare|cf)[A-Za-z0-9_.-]{0,20}?"
	  "(?i:token|key)" ASSIGN "([A-Za-z0-9_-]{40}|[a-f0-9]{37})"
	  END_B64URL, 1, CHECK_ENTROPY },
	{ "cloudflare-origin-ca-key", "v1.0-",
	  "Cloudflare Origin CA key",
	  "\\bv1\\.0-[a-f0-9]{24}-[a-f0-9]{146}\\b", 0, CHECK_NONE },
	{ "vault-token", "hvs.,hvb.,hvr.",
	  "HashiCorp Vault service, batch or recovery token",
	  "\\bhv[sbr]\\.[A-Za-z0-9_-]{24,400}" END_B64URL, 0, CHECK_NONE },
	{ "grafana-token", "glc_,glsa_,eyjrijoi",
	  "Grafana Cloud API token, service account token or API key",
	  "\\b(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_"
	  "[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{60,400}={0,2})"
	  "(?![A-Za-z0-9+/=_])", 0, CHECK_NONE },
	{ "atlassian-api-token", "atatt3",
	  "Atlassian (Jira, Confluence) API token",
	  "\\bATATT3[A-Za-z0-9_=-]{100,300}" END_B64URL, 0, CHECK_NONE },
	{ "telegram-bot-token", ":aa",
	  "Telegram bot token",
	  "(?<![0-9])\\d{8,10}:AA[A-Za-z0-9_-]{32,33}" END_B64URL, 0, CHECK_NONE },
	{ "jwt", "eyj",
	  "JSON Web Token (signed)",
	  "\\beyJ[A-Za-z0-9_-]{8,4096}\\.eyJ[A-Za-z0-9_-]{8,8192}\\."
	  "[A-Za-z0-9_-]{16,1024}" END_B64URL, 0, CHECK_NONE },
	{ "private-key", "-----begin",
	  "PEM private key block (multi-line blocks are masked from BEGIN "
	  "to END)",
	  "-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
	  "[\\s\\S]{0,16384}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?"
	  "-----", 0, CHECK_NONE },
	{ "url-password", "://",
	  "Password in a URL's userinfo (scheme://user:password@host)",
	  "://[^\\s:/?#@'\"<>]{0,128}:([^\\s/?#@'\"<>]{1,256})@"
	  "[A-Za-z0-9\\[]", 1, CHECK_URL_PASSWORD },
	{ "jdbc-password", "jdbc:",
	  "Password in a JDBC URL (;password= or ?password=)",
	  "jdbc:[A-Za-z0-9]{1,30}:[^\\s'\"]{0,512}?[;?&:](?i:password|pwd)="
	  "([^\\s;&'\"]{1,256})", 1, CHECK_URL_PASSWORD },
	{ "authorization-header", "authorization",
	  "Credentials in an Authorization header (Bearer, Basic, token)",
	  "(?i:authorization)" ASSIGN "(?:(?i:bearer|basic|token|negotiate|ntlm|apikey|"
	  "api-key|sso-key)\\s{1,4})?([A-Za-z0-9._~+/-]{8,4096}=*)",
	  1, CHECK_TOKEN },
	{ "bearer-token", "bearer",
	  "Bearer token outside an Authorization header",
	  "(?i:bearer)\\s{1,4}([A-Za-z0-9._~+/-]{20,4096}=*)", 1, CHECK_TOKEN },
	{ "api-key-header", "x-api-key,x-auth-token,x-access-token,"
	  "x-goog-api-key,api-key:",
	  "API key in an HTTP header (X-Api-Key and friends)",
	  "(?i:x-api-key|x-auth-token|x-access-token|x-goog-api-key|"
	  "api-key)[\"']?\\s{0,4}:\\s{0,4}[\"']?([A-Za-z0-9._~+/=-]{16,1024})",
	  1, CHECK_TOKEN },
	{ "generic-password", "password,passwd,passphrase",
	  "Password assignment (key=value, JSON, YAML)",
	  "(?i:password|passwd|passphrase)[\"']?\\s{0,4}(?|(?:=|:=|=>)\\s{0,4}"
	  "[\"']?([^\\s\"',;&<>]{1,256})|:\\s{0,4}\"([^\"\\n]{1,256})\"|"
	  ":\\s{0,4}'([^'\\n]{1,256})'|:\\s{0,4}(?=[^\\s,;]*"
	  "[0-9A-Z!#$%*+/=?@^_~-])([^\\s\"',;&<>]{1,256}))",
	  1, CHECK_PASSWORD },
	{ "generic-secret",
	  "secret,token,api_key,api-key,apikey,access_key,access-key,"
	  "accesskey,auth_key,credential",
	  "Secret, token or API key assignment (key=value, JSON, YAML) with "
	  "a secret-like value",
	  "(?i:secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|"
	  "credentials?)[\"']?\\s{0,4}(?:=|:=|=>|:)\\s{0,4}(?|\"([^\"\\s]"
	  "{16,512})\"|'([^'\\s]{16,512})'|([^\\s\"',;&<>(){}\\[\\]@]"
	  "{16,512})(?![^\\s\"',;&<>(){}\\[\\]@]))", 1, CHECK_GENERIC },
};

const size_t redact_pack_len = sizeof(redact_pack) / sizeof(redact_pack[0]);
