package main

// A safe arithmetic evaluator for the calculator tool: numbers, + - * / % ^, unary minus and
// parentheses, parsed by recursive descent. Nothing is ever executed: no names, no calls.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode"
)

// maxExpressionLength bounds the work one call can ask for.
const maxExpressionLength = 1000

type parser struct {
	text  []rune
	pos   int
	depth int
}

func evaluate(expression string) (float64, error) {
	if len(expression) > maxExpressionLength {
		return 0, fmt.Errorf("expression longer than %d characters", maxExpressionLength)
	}
	p := &parser{text: []rune(expression)}
	value, err := p.sum()
	if err != nil {
		return 0, err
	}
	p.skipSpaces()
	if p.pos < len(p.text) {
		return 0, fmt.Errorf("unexpected %q at position %d", p.text[p.pos], p.pos)
	}
	if math.IsInf(value, 0) || math.IsNaN(value) {
		return 0, errors.New("the result is not a finite number")
	}
	return value, nil
}

func (p *parser) skipSpaces() {
	for p.pos < len(p.text) && unicode.IsSpace(p.text[p.pos]) {
		p.pos++
	}
}

// peek returns the next non-space character, or 0 at the end.
func (p *parser) peek() rune {
	p.skipSpaces()
	if p.pos < len(p.text) {
		return p.text[p.pos]
	}
	return 0
}

// sum := product (('+' | '-') product)*
func (p *parser) sum() (float64, error) {
	left, err := p.product()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op != '+' && op != '-' {
			return left, nil
		}
		p.pos++
		right, err := p.product()
		if err != nil {
			return 0, err
		}
		if op == '+' {
			left += right
		} else {
			left -= right
		}
	}
}

// product := power (('*' | '/' | '%') power)*
func (p *parser) product() (float64, error) {
	left, err := p.power()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op != '*' && op != '/' && op != '%' {
			return left, nil
		}
		p.pos++
		right, err := p.power()
		if err != nil {
			return 0, err
		}
		switch {
		case op == '*':
			left *= right
		case right == 0:
			return 0, errors.New("division by zero")
		case op == '/':
			left /= right
		default:
			left = math.Mod(left, right)
		}
	}
}

// power := unary ('^' power)?   (right-associative)
func (p *parser) power() (float64, error) {
	base, err := p.unary()
	if err != nil {
		return 0, err
	}
	if p.peek() != '^' {
		return base, nil
	}
	p.pos++
	exponent, err := p.power()
	if err != nil {
		return 0, err
	}
	return math.Pow(base, exponent), nil
}

// unary := '-' unary | '+' unary | atom
func (p *parser) unary() (float64, error) {
	switch p.peek() {
	case '-':
		p.pos++
		value, err := p.unary()
		return -value, err
	case '+':
		p.pos++
		return p.unary()
	}
	return p.atom()
}

// atom := number | '(' sum ')'
func (p *parser) atom() (float64, error) {
	c := p.peek()
	if c == '(' {
		// Nesting is bounded so a hostile expression cannot exhaust the stack.
		if p.depth++; p.depth > 100 {
			return 0, errors.New("parentheses nested too deeply")
		}
		p.pos++
		value, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("missing ')' at position %d", p.pos)
		}
		p.pos++
		p.depth--
		return value, nil
	}
	start := p.pos
	for p.pos < len(p.text) && (unicode.IsDigit(p.text[p.pos]) || p.text[p.pos] == '.') {
		p.pos++
	}
	if start == p.pos {
		if c == 0 {
			return 0, errors.New("unexpected end of expression")
		}
		return 0, fmt.Errorf("unexpected %q at position %d", c, p.pos)
	}
	value, err := strconv.ParseFloat(string(p.text[start:p.pos]), 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", string(p.text[start:p.pos]))
	}
	return value, nil
}
