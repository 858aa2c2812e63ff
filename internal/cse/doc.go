// Package cse placeholder
package cse
