package auth

import (
	"net/http"
	"testing"
)

func TestTokenFromRequestPrefersCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cookieName string
		cookies    []string // Cookie header lines
		auth       string   // Authorization header; "" = none
		want       string
	}{
		{"None", "", nil, "", ""},
		{"CookieOnly", "", []string{"access_token=c1"}, "", "c1"},
		{"BearerOnly", "", nil, "Bearer b1", "b1"},
		{"CookieWinsOverBearer", "", []string{"access_token=c1"}, "Bearer b1", "c1"},
		{"InvalidCookieStillWins", "", []string{"access_token=not a jwt"}, "Bearer b1", "not a jwt"},
		{"CookieAmongOthers", "", []string{"theme=dark; access_token=c1; lang=en"}, "", "c1"},
		{"CookieInSecondHeaderLine", "", []string{"theme=dark", "access_token=c1"}, "", "c1"},
		{"CookieValueTrimmed", "", []string{"access_token=  c1  ;x=y"}, "", "c1"},
		{"CookieQuoted", "", []string{`access_token="c1"`}, "", "c1"},
		{"CookieValueWithEquals", "", []string{"access_token=a=b"}, "", "a=b"},
		{"CookieUndefinedFallsBack", "", []string{"access_token=undefined"}, "Bearer b1", "b1"},
		{"CookieNullFallsBack", "", []string{"access_token=null"}, "Bearer b1", "b1"},
		{"CookieQuotedNullFallsBack", "", []string{`access_token="null"`}, "Bearer b1", "b1"},
		{"CookieEmptyFallsBack", "", []string{"access_token="}, "Bearer b1", "b1"},
		{"CookieBlankFallsBack", "", []string{"access_token=   "}, "Bearer b1", "b1"},
		{"SecondCookieOfSameName", "", []string{"access_token=undefined; access_token=c2"}, "", "c2"},
		{"CookieNameIsExact", "", []string{"xaccess_token=c1; access_token_2=c2"}, "Bearer b1", "b1"},
		{"CookieNameCaseSensitive", "", []string{"Access_Token=c1"}, "", ""},
		{"CustomCookieName", "jwt", []string{"access_token=c1; jwt=c2"}, "", "c2"},
		{"CustomCookieNameIgnoresDefault", "jwt", []string{"access_token=c1"}, "", ""},
		{"CookieWithoutValueSeparator", "", []string{"access_token"}, "Bearer b1", "b1"},
		{"BearerLowerCase", "", nil, "bearer b1", "b1"},
		{"BearerUpperCase", "", nil, "BEARER b1", "b1"},
		{"BearerExtraSpaces", "", nil, "  Bearer    b1  ", "b1"},
		{"BearerTab", "", nil, "Bearer\tb1", "b1"},
		{"BearerWithoutToken", "", nil, "Bearer", ""},
		{"BearerBlankToken", "", nil, "Bearer    ", ""},
		{"BasicScheme", "", nil, "Basic dXNlcjpwYXNz", ""},
		{"SchemeOnlyPrefix", "", nil, "Bearerb1", ""},
		{"NonASCIIHeader", "", nil, "Bé b1", ""},
		{"NonASCIIToken", "", nil, "Bearer jé", "jé"},
		{"BearerUndefinedIsAToken", "", nil, "Bearer undefined", "undefined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/wse", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.cookies {
				r.Header.Add("Cookie", c)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if got := TokenFromRequest(r, tt.cookieName); got != tt.want {
				t.Fatalf("TokenFromRequest = %q, want %q", got, tt.want)
			}
		})
	}
}
