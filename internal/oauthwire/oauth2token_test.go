package oauthwire

import (
	"testing"
	"time"
)

func TestToken_OAuth2(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		expiresIn int64
		want      time.Duration
	}{
		{0, 0},
		{300, 5 * time.Minute},
		{86400, 24 * time.Hour},
		{1 << 62, 24 * time.Hour},
	} {
		in := &Token{AccessToken: "a", RefreshToken: "r", TokenType: "Bearer", ExpiresIn: c.expiresIn, Fields: map[string]any{"id_token": "i"}}
		tok := in.OAuth2(now, 24*time.Hour)
		if tok.AccessToken != "a" || tok.RefreshToken != "r" || tok.TokenType != "Bearer" || tok.Extra("id_token") != "i" {
			t.Errorf("expires_in %d: token %+v", c.expiresIn, tok)
		}
		if c.want == 0 && (!tok.Expiry.IsZero() || tok.ExpiresIn != 0) {
			t.Errorf("no expires_in: expiry %v (%d s)", tok.Expiry, tok.ExpiresIn)
		}
		if c.want != 0 && (!tok.Expiry.Equal(now.Add(c.want)) || tok.ExpiresIn != int64(c.want/time.Second)) {
			t.Errorf("expires_in %d: expiry %v (%d s), want %v", c.expiresIn, tok.Expiry, tok.ExpiresIn, now.Add(c.want))
		}
	}
}
