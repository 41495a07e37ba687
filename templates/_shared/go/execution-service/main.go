// The execution service: performs the task, signs it and sends it to the Othentic aggregator.
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
	settings, err := loadExecutionSettings(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "execution service: %v\n", err)
		os.Exit(1)
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(settings.host, fmt.Sprint(settings.port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "execution service: %v\n", err)
		os.Exit(1)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	fmt.Printf("execution service listening on http://%s:%d (performer %s)\n", settings.host, port, settings.performerAddress)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		listener.Close()
		os.Exit(0)
	}()
	if err := http.Serve(listener, newExecutionHandler(settings, os.Getenv)); err != nil {
		fmt.Fprintf(os.Stderr, "execution service: %v\n", err)
		os.Exit(1)
	}
}
