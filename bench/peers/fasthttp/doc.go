// Command fasthttp is the valyala/fasthttp peer: hello and POST echo.
package main
