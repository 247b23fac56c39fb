package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/topic"
)

// DemoTopics is the topic glob that dev mode (Config.Dev) lets clients
// subscribe to: the demo page's chat rooms.
const DemoTopics = "demo:*"

// Message types of the demo chat relay (dev mode only).
const (
	// demoChatType is what a demo page sends, {"t":"demo_chat","p":{"room",
	// "name","text"}}, and what the relay publishes to the room, with "from"
	// (the sender's connection id) and "ts" (RFC 3339, milliseconds) added.
	demoChatType = "demo_chat"
	// demoErrorType answers a demo_chat or demo_who the relay refused.
	demoErrorType = "demo_error"
	// demoWhoType, {"t":"demo_who","p":{"room"}}, asks for the room's
	// present users; the answer is presenceSnapshotType,
	// {"t":"presence_snapshot","p":{"topic","members":{user_id:{data,connections}}}},
	// which the TypeScript client applies to its member list.
	demoWhoType          = "demo_who"
	presenceSnapshotType = "presence_snapshot"
	// demoNameType, {"t":"demo_name","p":{"name"}}, changes the sender's
	// presence data to {"name"} in every topic where it has presence.
	demoNameType = "demo_name"
)

// Bounds of a relayed demo chat message.
const (
	maxDemoName = 40   // runes
	maxDemoText = 2000 // bytes
)

// clientTopics returns the acl allow globs for clients: ClientTopics, plus
// DemoTopics in dev mode.
func (c Config) clientTopics() []string {
	if !c.Dev || c.ClientSubscriptions != "acl" || slices.Contains(c.ClientTopics, DemoTopics) {
		return c.ClientTopics
	}
	return append(slices.Clip(c.ClientTopics), DemoTopics)
}

// PolicySummary is one line for the startup banner: the client subscription
// policy in effect and the setting that changes it.
func (c Config) PolicySummary() string {
	var b strings.Builder
	switch {
	case c.Dev && c.DevAuto:
		fmt.Fprintf(&b, "dev mode (started with no settings): clients may subscribe to %s, presence and recovery are on; any setting besides --port, --api-addr and --log-* (or --dev=false) gives the production defaults", DemoTopics)
		return b.String()
	case c.Dev:
		b.WriteString("dev mode (--dev): ")
	}
	switch c.ClientSubscriptions {
	case "any":
		b.WriteString("subscription policy any: clients may subscribe to every topic (--client-subscriptions acl restricts them)")
	case "app":
		b.WriteString("subscription policy app: client subscription requests go to the application as msg events (GET /api/events); --client-subscriptions acl grants by --client-topics instead")
	default:
		if topics := c.clientTopics(); len(topics) == 0 {
			b.WriteString("subscription policy acl: no --client-topics, so clients may subscribe only to what their token's wse_topics claim allows; set --client-topics, or --dev for the demo page")
		} else {
			fmt.Fprintf(&b, "subscription policy acl: clients may subscribe to %s and what their token's wse_topics claim allows; change with --client-topics or --client-subscriptions", strings.Join(topics, ","))
		}
	}
	return b.String()
}

// errDemoChat is the class of refused demo chat messages.
var errDemoChat = errors.New("demo_chat refused")

// demoChat is the payload of a demo chat message.
type demoChat struct {
	Room string `json:"room"`
	Name string `json:"name"`
	Text string `json:"text"`
	From string `json:"from"`
	TS   string `json:"ts"`
}

// parseDemoChat validates a client's demo_chat payload.
func parseDemoChat(p any) (demoChat, error) {
	m, ok := p.(map[string]any)
	if !ok {
		return demoChat{}, fmt.Errorf("%w: p must be an object {room,name,text}", errDemoChat)
	}
	room, err := demoRoom(p)
	if err != nil {
		return demoChat{}, err
	}
	name, _ := m["name"].(string)
	if name, err = demoName(name); err != nil {
		return demoChat{}, err
	}
	text, _ := m["text"].(string)
	if text = strings.TrimSpace(text); text == "" || len(text) > maxDemoText {
		return demoChat{}, fmt.Errorf("%w: text must be 1 to %d bytes", errDemoChat, maxDemoText)
	}
	return demoChat{Room: room, Name: name, Text: text}, nil
}

// demoRoom returns the demo room named by a payload's "room".
func demoRoom(p any) (string, error) {
	m, _ := p.(map[string]any)
	room, _ := m["room"].(string)
	if topic.Validate(room) != nil || !topic.Match(DemoTopics, room) {
		return "", fmt.Errorf("%w: room %q is not a %s topic", errDemoChat, room, DemoTopics)
	}
	return room, nil
}

// relayDemoChat is the demo page's backend, so that the page works without
// an application behind the server: it publishes a client's demo_chat
// message to its room and answers demo_who with the room's members. It runs
// in dev mode only; other messages are left to the application. A refused
// message is answered with demo_error.
func (s *Server) relayDemoChat(ev wse.Event) {
	var err error
	switch t, _ := ev.Message["t"].(string); t {
	case demoChatType:
		err = s.publishDemoChat(ev)
	case demoWhoType:
		err = s.answerDemoWho(ev)
	case demoNameType:
		err = s.renameDemoUser(ev)
	default:
		return
	}
	if err == nil {
		return
	}
	s.log.Debug("demo chat refused", "conn_id", ev.ConnID, "error", err)
	reply, _ := json.Marshal(map[string]any{"t": demoErrorType, "p": map[string]string{"message": err.Error()}})
	if err := s.engine.Send(ev.ConnID, string(reply)); err != nil {
		s.log.Debug("demo chat: error reply not sent", "conn_id", ev.ConnID, "error", err)
	}
}

// answerDemoWho sends the connection the members present in a demo room.
func (s *Server) answerDemoWho(ev wse.Event) error {
	room, err := demoRoom(ev.Message["p"])
	if err != nil {
		return err
	}
	members := s.engine.Presence(room)
	if members == nil {
		members = map[string]wse.Member{}
	}
	reply, err := json.Marshal(map[string]any{"t": presenceSnapshotType, "p": map[string]any{"topic": room, "members": members}})
	if err != nil {
		return fmt.Errorf("%w: %w", errDemoChat, err)
	}
	return s.engine.Send(ev.ConnID, string(reply))
}

// renameDemoUser replaces the sender's presence data with its new name.
func (s *Server) renameDemoUser(ev wse.Event) error {
	m, _ := ev.Message["p"].(map[string]any)
	name, _ := m["name"].(string)
	name, err := demoName(name)
	if err != nil {
		return err
	}
	if err := s.engine.UpdatePresence(ev.ConnID, map[string]any{"name": name}); err != nil {
		return fmt.Errorf("%w: %w", errDemoChat, err)
	}
	return nil
}

// demoName validates a demo user name.
func demoName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxDemoName {
		return "", fmt.Errorf("%w: name must be 1 to %d characters", errDemoChat, maxDemoName)
	}
	return name, nil
}

// publishDemoChat publishes a demo_chat message to its room.
func (s *Server) publishDemoChat(ev wse.Event) error {
	msg, err := parseDemoChat(ev.Message["p"])
	if err == nil {
		msg.From = ev.ConnID
		msg.TS = time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		var text []byte
		text, err = json.Marshal(struct {
			T string   `json:"t"`
			P demoChat `json:"p"`
		}{demoChatType, msg})
		if err == nil {
			_, err = s.engine.Broadcast(msg.Room, string(text))
		}
	}
	return err
}
