// gen.go records what Go's regexp package (the one container-structure-test
// uses) answers for every pattern against every text in cases.json's inputs:
// whether the pattern compiles, whether it matches (MatchString) and the leftmost
// match (FindString). tests/unit/check/test_go_regexp.cpp replays the answers
// against distill's GoRegexp. Regenerate with: go run gen.go > cases.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"runtime"
)

type answer struct {
	Pattern string    `json:"pattern"`     // readable (JSON turns invalid UTF-8 into U+FFFD)
	Hex     string    `json:"pattern_hex"` // the exact bytes
	Valid   bool      `json:"valid"`
	Matches []bool    `json:"matches,omitempty"`
	Found   []*string `json:"found,omitempty"` // hex of FindString, null when no match
}

func main() {
	patterns := []string{
		`\Aroot`, `root\z`, `root$`, `(?m)root$`, `^root`, `(?m)^nobody`, `\Anobody`,
		`x\n\z`, `\n\z`, `^$`, `(?m)^$`, `\z`, `\A`,
		`\pL+`, `^\pL+$`, `^\pL$`, `\PL`, `\p{Greek}`, `\p{Lu}`, `\pN`, `[\p{L}\d]+`,
		`.`, `^.$`, `^..$`, `^...$`, `^h.llo$`, `h.llo`, `^h..llo$`, `[^a]`, `^[^a]+$`,
		`h\xe9llo`, `h\x{e9}llo`, `\x{FFFD}`, `h\x{FFFD}llo`, "h\u00e9llo", `\xc3`,
		`(?i)HELLO`, `(?i)h\xc9llo`, `(?i)K`, "(?i)\u212a", `(?i)ß`, `HELLO`,
		`(?s)a.b`, `a.b`, `a(?s:.)b`, `(?s).+`, `(?U)a+`, `(?i)(?s)A.B`, `(?ims)^A.B$`,
		`\bword\b`, `\Bor\B`, `[[:alpha:]]+`, `[[:^alpha:]]`, `[]a]`, `[^]a]`,
		`\Qa.b\E`, `a{2}`, `a{2,}`, `a{,2}`, `a{1001}`, `\d+`, `\s`, `\S+`, `\w+`, `\W`,
		`\Z`, `\C`, `a**`, `(?<=a)b`, `(?!a)`, `\1`, `(a)\1`, `[a-`, `(`, `)`, `\e`, `\0`, `\101`, `\8`,
		`(?P<n>a)`, `x*`, ``, `|`, `a|`, `\v`, `[\v]`, `\Q\E`, `\Q`, `[a-\d]`, `\pZ`, `\p{Zs}`,
		`\x{10FFFF}`, `\x{110000}`, `[\x{0}-\x{10FFFF}]`, "\xff", `(?-s:.)`, `(?i:a)A`,
	}
	texts := [][]byte{
		[]byte(""),
		[]byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:\n"),
		[]byte("root"),
		[]byte("say root\n"),
		[]byte("h\xc3\xa9llo"),
		[]byte("h\xe9llo"),
		[]byte("HELLO hello Hello"),
		[]byte("a\nb"),
		[]byte("aaa ab a.b axb"),
		[]byte("\xce\xb1\xce\xb2\xce\xb3 \xe2\x82\xac 123"),
		[]byte("a word, a sword"),
		[]byte("x\xed\xa0\x80y\xc0\xafz\xe2\x82"),
		[]byte("\xf0\x9f\x98\x80 \xe2\x80\x83\x00end"),
		[]byte("K \xe2\x84\xaa \xc3\x9f ss"),
		[]byte("line1\r\nline2\n\n"),
	}
	inputs := make([]string, len(texts))
	for i, t := range texts {
		inputs[i] = hex.EncodeToString(t)
	}
	var answers []answer
	for _, p := range patterns {
		a := answer{Pattern: p, Hex: hex.EncodeToString([]byte(p))}
		re, err := regexp.Compile(p)
		if err == nil {
			a.Valid = true
			for _, t := range texts {
				a.Matches = append(a.Matches, re.Match(t))
				loc := re.FindIndex(t)
				if loc == nil {
					a.Found = append(a.Found, nil)
				} else {
					h := hex.EncodeToString(t[loc[0]:loc[1]])
					a.Found = append(a.Found, &h)
				}
			}
		}
		answers = append(answers, a)
	}
	// One answer per line, so a diff shows which pattern changed.
	head, _ := json.Marshal(map[string]interface{}{"go": runtime.Version(), "texts": inputs})
	os.Stdout.Write(head[:len(head)-1])
	os.Stdout.WriteString(",\n\"answers\": [\n")
	for i, a := range answers {
		line, err := json.Marshal(a)
		if err != nil {
			panic(err)
		}
		os.Stdout.Write(line)
		if i+1 < len(answers) {
			os.Stdout.WriteString(",")
		}
		os.Stdout.WriteString("\n")
	}
	os.Stdout.WriteString("]}\n")
}
