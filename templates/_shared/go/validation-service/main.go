// The validation service the attesters call to check a task's proof.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The project's .env first, then the service's own; variables already set always win.
	loadEnvFiles("../.env", ".env")
	port, err := portFrom(os.Getenv, "VALIDATION_PORT", 4002)
	if err != nil {
		fmt.Fprintf(os.Stderr, "validation service: %v\n", err)
		os.Exit(1)
	}
	host := envValue(os.Getenv, "HOST")
	if host == "" {
		host = "0.0.0.0"
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "validation service: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("validation service listening on http://%s:%d\n", host, listener.Addr().(*net.TCPAddr).Port)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		listener.Close()
		os.Exit(0)
	}()
	if err := http.Serve(listener, newValidationHandler(os.Getenv)); err != nil {
		fmt.Fprintf(os.Stderr, "validation service: %v\n", err)
		os.Exit(1)
	}
}
