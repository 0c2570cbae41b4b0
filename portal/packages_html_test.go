package portal

import "testing"

func TestSanitizeBody(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<p>Текст <b>жирный</b> и <i>курсив</i></p>`, `<p>Текст <strong>жирный</strong> и <em>курсив</em></p>`},
		{`<p onclick="x()" class="a" style="color:red">a</p>`, `<p>a</p>`},
		{`<script>alert(1)</script>после`, `после`},
		{`<style>p{}</style><iframe src="//x"></iframe><svg><a href="https://x">s</a></svg>ok`, `ok`},
		{`<a href="javascript:alert(1)">link</a>`, `link`},
		{`<a href=" https://example.org/a?b=1&c=2 " target="_blank">x</a>`, `<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">x</a>`},
		{`<a href="//evil.example">rel</a>`, `rel`},
		{`<a href="mailto:help@example.org">mail</a>`, `<a href="mailto:help@example.org" rel="nofollow noopener noreferrer">mail</a>`},
		{`<h1>Заголовок</h1>`, `<h2>Заголовок</h2>`},
		{`<ul><li>один<li>два</ul>`, `<ul><li>один</li><li>два</li></ul>`},
		{`<p>открыт <strong>не закрыт`, `<p>открыт <strong>не закрыт</strong></p>`},
		{`a &lt;b&gt; &amp; "c"`, `a &lt;b&gt; &amp; &#34;c&#34;`},
		{`<img src=x onerror=alert(1)><form><input></form>текст`, `текст`},
		{`</p></strong>лишние`, `лишние`},
	}
	for _, tt := range tests {
		if got := string(sanitizeBody(tt.in)); got != tt.want {
			t.Errorf("sanitizeBody(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if got := string(plainBody("один <b>\nдва\n\nтри")); got != "<p>один &lt;b&gt;<br>два</p><p>три</p>" {
		t.Errorf("plainBody: %q", got)
	}
}
