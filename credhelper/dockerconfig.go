package credhelper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Docker's client configuration (config.json, in $DOCKER_CONFIG or
// ~/.docker) names a credential helper per registry in credHelpers: docker
// runs "docker-credential-" + the name for that registry alone. Docker
// reads the file with encoding/json and writes it indented with tabs; an
// empty file counts as an empty object.

// DockerConfigError says why a docker config.json cannot be changed: it
// does not parse, or a member sesame must change has another type. The
// file is then left as it is: it holds the person's other registries'
// settings, and docker would not read it either.
type DockerConfigError struct {
	// Line is the 1-based line of a syntax error, 0 when the error is
	// not about one place.
	Line   int
	Reason string
}

func (e *DockerConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("not valid JSON at line %d: %s", e.Line, e.Reason)
	}
	return e.Reason
}

// SetDockerCredHelpers returns config with credHelpers[r] = helper for
// each registry r, every other member, and their order, as they were.
// replaced maps each registry that named another helper to that helper.
func SetDockerCredHelpers(config []byte, helper string, registries []string) (out []byte, replaced map[string]string, err error) {
	value, _ := json.Marshal(helper)
	replaced = map[string]string{}
	out, err = editCredHelpers(config, func(helpers []jsonMember) ([]jsonMember, error) {
		for _, r := range registries {
			found := false
			for i, m := range helpers {
				if m.key != r {
					continue
				}
				old, err := helperName(m)
				if err != nil {
					return nil, err
				}
				if old != helper {
					replaced[r] = old
				}
				helpers[i].value, found = value, true
			}
			if !found {
				helpers = append(helpers, jsonMember{key: r, value: value})
			}
		}
		return helpers, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, replaced, nil
}

// RemoveDockerCredHelpers returns config without the credHelpers entries
// of registries that name helper, everything else as it was; removed are
// the registries whose entry went. An entry naming another helper stays.
func RemoveDockerCredHelpers(config []byte, helper string, registries []string) (out []byte, removed []string, err error) {
	out, err = editCredHelpers(config, func(helpers []jsonMember) ([]jsonMember, error) {
		kept := helpers[:0]
		for _, m := range helpers {
			name, err := helperName(m)
			if err != nil {
				return nil, err
			}
			if name == helper && slices.Contains(registries, m.key) {
				removed = append(removed, m.key)
				continue
			}
			kept = append(kept, m)
		}
		return kept, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, removed, nil
}

// editCredHelpers returns config with its credHelpers object (an empty one
// when there is none) replaced by what change makes of its members, every
// other member, and their order, as they were.
func editCredHelpers(config []byte, change func([]jsonMember) ([]jsonMember, error)) ([]byte, error) {
	var top []jsonMember
	var err error
	if len(bytes.TrimSpace(config)) > 0 {
		if top, err = readDockerObject(config, config); err != nil {
			return nil, err
		}
	}
	helpers, at := []jsonMember(nil), -1
	for i, m := range top {
		if m.key == "credHelpers" {
			at = i // encoding/json takes the last of duplicate keys; so does this.
		}
	}
	if at >= 0 {
		if helpers, err = readDockerObject(top[at].value, nil); err != nil {
			return nil, &DockerConfigError{Reason: "its credHelpers is not an object of registry names to helper names"}
		}
	}
	if helpers, err = change(helpers); err != nil {
		return nil, err
	}
	if at >= 0 {
		top[at].value = writeJSONObject(helpers)
	} else {
		top = append(top, jsonMember{key: "credHelpers", value: writeJSONObject(helpers)})
	}
	var b bytes.Buffer
	if err := json.Indent(&b, writeJSONObject(top), "", "\t"); err != nil {
		return nil, err
	}
	return append(b.Bytes(), '\n'), nil
}

// helperName is the helper a credHelpers member names.
func helperName(m jsonMember) (string, error) {
	var name string
	if json.Unmarshal(m.value, &name) != nil {
		return "", &DockerConfigError{Reason: fmt.Sprintf("its credHelpers entry for %q is not a string", m.key)}
	}
	return name, nil
}

// jsonMember is one member of a JSON object, its value as it was written.
type jsonMember struct {
	key   string
	value json.RawMessage
}

// readDockerObject reads a JSON object's members in order. file, when not
// nil, is the whole file data comes from, for the line of a syntax error.
func readDockerObject(data, file []byte) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) && file != nil {
			return &DockerConfigError{Line: 1 + bytes.Count(file[:se.Offset], []byte("\n")), Reason: se.Error()}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &DockerConfigError{Reason: "not valid JSON: it ends too early"}
		}
		return &DockerConfigError{Reason: "not valid JSON: " + err.Error()}
	}
	if tok, err := dec.Token(); err != nil {
		return nil, fail(err)
	} else if tok != json.Delim('{') {
		return nil, &DockerConfigError{Reason: "not a JSON object"}
	}
	var members []jsonMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fail(err)
		}
		members = append(members, jsonMember{key: tok.(string), value: value})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DockerConfigError{Reason: "not valid JSON: something follows the object"}
	}
	return members, nil
}

// writeJSONObject writes members as one compact JSON object.
func writeJSONObject(members []jsonMember) []byte {
	b := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m.key)
		b = append(append(append(b, k...), ':'), m.value...)
	}
	return append(b, '}')
}
