package truv

import (
	"fmt"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
)

// Truv's authentication headers. Truv: "X-Access-Client-Id: Client ID",
// "X-Access-Secret: Client Access Key", both required on every request; a
// static key pair, no token exchange.
const (
	headerClientID = "X-Access-Client-Id"
	headerSecret   = "X-Access-Secret"
)

// errNoCredentials is a request without one of the two headers. It matches
// directory.ErrUnauthenticated; the renderer tells it apart only for the
// message, as DRF does ("not provided" against "incorrect").
var errNoCredentials = fmt.Errorf("%w: missing %s or %s header", directory.ErrUnauthenticated, headerClientID, headerSecret)

// authenticate checks Truv's key pair. Roster's credential pair (client id
// and "rsk_..." secret) is what clients send here.
func (h *Handler) authenticate(r *http.Request) (directory.Principal, error) {
	clientID, secret := r.Header.Get(headerClientID), r.Header.Get(headerSecret)
	if clientID == "" || secret == "" {
		return directory.Principal{}, errNoCredentials
	}
	return h.svc.Authenticate(r.Context(), clientID, secret)
}
