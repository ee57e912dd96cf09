// OpenSSL's libcrypto (Debian's libssl-dev): SHA-256 of the tracked values too large to repeat in a change.
#include <openssl/sha.h>
