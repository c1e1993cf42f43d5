// Command reference records how gopkg.in/yaml.v2 (the YAML decoder under
// sigs.k8s.io/yaml, hence under Kubernetes) resolves plain YAML scalars.
//
// For every line L of the corpus file (default scalars.txt) it decodes the
// document "v: L" and prints one TAB-separated line:
//
//	scalar        the line itself (an empty line stands for the empty value)
//	go_type       Go type yaml.v2 gives when decoding into interface{}
//	go_value      that value, printed unambiguously
//	string_field  yaml.v2 decoding into struct{ V string `yaml:"v"` }
//	tag           the tag yaml.v2 resolved the scalar to (!!int, !!float,
//	              !!bool, !!null, !!str, !!timestamp, ...), read from the
//	              "cannot unmarshal !!tag ..." error of decoding into a []int
//	time_field    yaml.v2 decoding into struct{ V time.Time `yaml:"v"` }
//	k8s_json      the JSON that sigs.k8s.io/yaml's YAMLToJSON makes of v
//	              (what Kubernetes API machinery decodes manifests from)
//	k8s_string    sigs.k8s.io/yaml Unmarshal into struct{ V string `json:"v"` }
//
// sigs.k8s.io/yaml is not packaged by Debian; github.com/ghodss/yaml, the
// project it was forked from, has the same YAMLToJSON/Unmarshal conversion
// and is used for the last two columns.
//
// Build offline in GOPATH mode, see ./regenerate.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	ghodss "github.com/ghodss/yaml"
	yaml "gopkg.in/yaml.v2"
)

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func typeName(v interface{}) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

func formatValue(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	default:
		return fmt.Sprintf("%#v", x)
	}
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	return "error: " + strings.ReplaceAll(s, "\t", " ")
}

func row(scalar string) []string {
	doc := []byte("v: " + scalar + "\n")
	out := []string{scalar}

	// interface{} (a generic map), as yaml.v2 gives it.
	var m map[interface{}]interface{}
	if err := yaml.Unmarshal(doc, &m); err != nil {
		out = append(out, "error", oneLine(err))
	} else if v, ok := m["v"]; !ok {
		out = append(out, "error", fmt.Sprintf("error: no key v in %#v", m))
	} else {
		out = append(out, typeName(v), formatValue(v))
	}

	// A typed string field, yaml.v2 directly.
	var s struct {
		V string `yaml:"v"`
	}
	if err := yaml.Unmarshal(doc, &s); err != nil {
		out = append(out, oneLine(err))
	} else {
		out = append(out, strconv.Quote(s.V))
	}

	// The resolved tag: decoding a scalar into a slice fails with
	// "cannot unmarshal <tag> `<value>` into []int"; a null just zeroes it.
	var sl struct {
		V []int `yaml:"v"`
	}
	if err := yaml.Unmarshal(doc, &sl); err == nil {
		out = append(out, "!!null")
	} else if msg := err.Error(); strings.Contains(msg, "cannot unmarshal !!") {
		t := msg[strings.Index(msg, "cannot unmarshal !!")+len("cannot unmarshal "):]
		if i := strings.IndexAny(t, " `"); i >= 0 {
			t = t[:i]
		}
		out = append(out, t)
	} else {
		out = append(out, oneLine(err))
	}

	// A typed time.Time field, yaml.v2 directly.
	var tf struct {
		V time.Time `yaml:"v"`
	}
	if err := yaml.Unmarshal(doc, &tf); err != nil {
		out = append(out, oneLine(err))
	} else {
		out = append(out, tf.V.Format(time.RFC3339Nano))
	}

	// YAMLToJSON, as Kubernetes turns a manifest into JSON.
	if j, err := ghodss.YAMLToJSON(doc); err != nil {
		out = append(out, oneLine(err))
	} else {
		var jm map[string]json.RawMessage
		if err := json.Unmarshal(j, &jm); err != nil {
			out = append(out, oneLine(err))
		} else if raw, ok := jm["v"]; !ok {
			out = append(out, "error: no key v in "+string(j))
		} else {
			out = append(out, string(raw))
		}
	}

	// sigs.k8s.io/yaml-style Unmarshal into a typed string field.
	var ks struct {
		V string `json:"v"`
	}
	if err := ghodss.Unmarshal(doc, &ks); err != nil {
		out = append(out, oneLine(err))
	} else {
		out = append(out, strconv.Quote(ks.V))
	}
	return out
}

func main() {
	path := "scalars.txt"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "scalar\tgo_type\tgo_value\tstring_field\ttag\ttime_field\tk8s_json\tk8s_string")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		fmt.Fprintln(w, strings.Join(row(line), "\t"))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
