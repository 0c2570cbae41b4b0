package main

import (
	"testing"
)

func TestToolsTakeOnlyConnectionSettingsFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"HUB_URL": "https://hub.example.org", "HUB_KEY": "hub_secret", "HUB_LOG_LEVEL": "debug",
		"HUB_RELEASE": "true", "HUB_FOLLOW": "true", "HUB_DEST": "/srv/elsewhere", "HUB_HUB": "http://wrong",
	}
	getenv := func(k string) string { return env[k] }

	push := newPushCommand()
	if err := push.ParseFlags([]string{"--key", "hub_from_flag"}); err != nil {
		t.Fatal(err)
	}
	if err := applyToolEnv(push.Flags(), getenv); err != nil {
		t.Fatal(err)
	}
	get := func(cmdFlag string) string { return push.Flags().Lookup(cmdFlag).Value.String() }
	if get("hub") != "https://hub.example.org" || get("key") != "hub_from_flag" || get("log-level") != "debug" || get("release") != "false" {
		t.Errorf("push: hub %s key %s log-level %s release %s", get("hub"), get("key"), get("log-level"), get("release"))
	}

	pull := newPullCommand()
	if err := applyToolEnv(pull.Flags(), getenv); err != nil {
		t.Fatal(err)
	}
	if f := pull.Flags(); f.Lookup("key").Value.String() != "hub_secret" || f.Lookup("follow").Value.String() != "false" ||
		f.Lookup("dest").Value.String() != "" {
		t.Errorf("pull took switches from the environment: follow %s dest %s", f.Lookup("follow").Value, f.Lookup("dest").Value)
	}
}
