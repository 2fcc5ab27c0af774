// Package endpoint delivers one notification message to a topic's push
// endpoint and reports success only once the configured ack level is
// reached. It knows nothing of S3, topics or queues: callers build a Config
// from the topic (ParseConfig), obtain an Endpoint (Open, or a shared one
// from a Pool) and call Send; retrying is the caller's business.
//
// # Schemes
//
// The push-endpoint URI scheme selects a driver, each in its own package:
//
//	http, https    package http    POST, success on 2xx             (spec §5.2)
//	amqp, amqps    package amqp    RabbitMQ, publisher confirms     (spec §5.3)
//	kafka          package kafka   franz-go producer                (spec §5.4)
//	nats           package nats    core publish+flush or JetStream  (extension)
//	mqtt, mqtts    package mqtt    QoS 1 publish, wait for PUBACK   (extension)
//
// RGW has no NATS or MQTT driver and the spec requires nats:// to be treated
// as an unknown scheme, so Open accepts the extension schemes only when
// asked to (WithExtensions, PoolOptions.Extensions); by default they fail
// like any unknown scheme.
//
// # Endpoint arguments
//
// ParseConfig reads the topic's endpoint arguments (spec §2.5): verify-ssl,
// ca-location, use-ssl, cloudevents, http-ack-level, amqp-exchange,
// amqp-ack-level, amqp-version, kafka-ack-level, mechanism, user-name,
// password, kafka-brokers; and for the extensions nats-ack-level,
// nats-jetstream and mqtt-ack-level. Unknown arguments are ignored; an
// invalid boolean or ack level makes the configuration invalid, which is
// reported when the endpoint is needed (delivery time), as in RGW.
//
// # Errors
//
// Every failure is returned, never swallowed. IsPermanent tells
// misconfiguration that retrying cannot fix (bad URI, unknown scheme or ack
// level, missing AMQP exchange, refused credentials, unreadable CA file)
// from transient failures (broker down, timeout, nack, busy). Callers are
// expected to retry both kinds for persistent topics. Error texts never
// contain URI passwords.
//
// # TLS
//
// verify-ssl (default true) and ca-location apply to every TLS connection.
// A ca-location file is re-read when its modification time or size changes,
// checked at each (re)connection.
package endpoint
