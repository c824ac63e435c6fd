package report

import (
	"fmt"
	"html"
	"strings"
)

// HTML renders a self-contained page: the markdown tables converted to HTML tables and the
// SVG charts beside them.
func HTML(r *Report, charts []string) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>asgo benchmark</title><style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}td.n{text-align:right}th{background:#f3f3f3}
blockquote{background:#fff3cd;padding:.5em 1em;margin:.5em 0}img{width:48%;min-width:480px;margin:1em 1% 0 0;display:inline-block;vertical-align:top}</style></head><body>
`)
	md := Markdown(r, nil)
	writeHTMLFromMarkdown(&b, md)
	for _, c := range charts {
		if strings.HasSuffix(c, ".svg") {
			fmt.Fprintf(&b, "<img src=%q alt=%q>\n", c, c)
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// writeHTMLFromMarkdown converts the subset Markdown emits: headings, quotes, tables, lists.
func writeHTMLFromMarkdown(b *strings.Builder, md string) {
	inTable, header := false, false
	for _, line := range strings.Split(md, "\n") {
		isRow := strings.HasPrefix(line, "|")
		if inTable && !isRow {
			b.WriteString("</table>\n")
			inTable = false
		}
		switch {
		case isRow && strings.HasPrefix(line, "|---"):
			continue
		case isRow:
			if !inTable {
				b.WriteString("<table>\n")
				inTable, header = true, true
			}
			writeRow(b, line, header)
			header = false
		case strings.HasPrefix(line, "# "):
			fmt.Fprintf(b, "<h1>%s</h1>\n", html.EscapeString(line[2:]))
		case strings.HasPrefix(line, "## "):
			fmt.Fprintf(b, "<h2>%s</h2>\n", html.EscapeString(line[3:]))
		case strings.HasPrefix(line, "> "):
			fmt.Fprintf(b, "<blockquote>%s</blockquote>\n", html.EscapeString(strings.ReplaceAll(line[2:], "**", "")))
		case strings.HasPrefix(line, "- "):
			fmt.Fprintf(b, "<div>%s</div>\n", html.EscapeString(line))
		}
	}
	if inTable {
		b.WriteString("</table>\n")
	}
}

func writeRow(b *strings.Builder, line string, header bool) {
	cells := strings.Split(strings.Trim(line, "|"), "|")
	tag := "td"
	if header {
		tag = "th"
	}
	b.WriteString("<tr>")
	for i, c := range cells {
		class := ""
		if !header && i > 0 && numeric(strings.TrimSpace(c)) {
			class = ` class="n"`
		}
		fmt.Fprintf(b, "<%s%s>%s</%s>", tag, class, html.EscapeString(strings.TrimSpace(c)), tag)
	}
	b.WriteString("</tr>\n")
}

// numeric reports whether a cell holds a figure (right-aligned): digits, ratios, dashes.
func numeric(c string) bool {
	if c == "—" {
		return true
	}
	return c != "" && strings.IndexFunc(c, func(r rune) bool {
		return !strings.ContainsRune("0123456789.,x–-", r)
	}) < 0
}
