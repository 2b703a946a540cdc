package ecs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// Task lifecycle, as on Fargate: PROVISIONING → PENDING → RUNNING, and on
// stop DEACTIVATING (deregistered, draining) → STOPPING (SIGTERM) →
// DEPROVISIONING → STOPPED.

func ts(t time.Time) *awsproto.Timestamp { return awsproto.TimestampPtr(t) }

// setTaskStatus is the one place a task's status changes; it emits the task
// state change.
func (b *Backend) setTaskStatus(t *taskRec, last string) {
	if t.LastStatus == last {
		return
	}
	now := b.cfg.Clock.Now()
	t.LastStatus = last
	t.Version++
	for i := range t.Containers {
		switch last {
		case "RUNNING", "STOPPED":
			t.Containers[i].LastStatus = last
		}
	}
	switch last {
	case "RUNNING":
		t.StartedAt = ts(now)
		t.StartedAtT = now
		t.ConnectivityAt = ts(now)
		t.Connectivity = "CONNECTED"
	case "DEACTIVATING":
		t.StoppingAt = ts(now)
	case "STOPPED":
		t.StoppedAt = ts(now)
		t.ExecutionStoppedAt = ts(now)
		t.Connectivity = "DISCONNECTED"
		for i := range t.Attachments {
			t.Attachments[i].Status = "DELETED"
		}
	}
	b.dirty = true
	level := "debug"
	if last == "RUNNING" || last == "STOPPED" {
		level = "info"
	}
	args := []any{"task", t.ID, "status", last, "host", t.Host, "taskDefinition", t.Family + ":" + strconv.Itoa(int(t.TDRev))}
	if t.StoppedReason != "" && last == "STOPPED" {
		args = append(args, "reason", t.StoppedReason)
	}
	if level == "info" {
		b.log.Info("task "+strings.ToLower(last), args...)
	} else {
		b.log.Debug("task "+strings.ToLower(last), args...)
	}
	b.emit("ECS Task State Change", t.TaskArn, taskEventDetail(t, b.cfg.Clock.Now()))
}

func taskEventDetail(t *taskRec, now time.Time) map[string]any {
	iso := func(p *awsproto.Timestamp) any {
		if p == nil {
			return nil
		}
		return p.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	var containers []map[string]any
	for _, c := range t.Containers {
		m := map[string]any{"name": c.Name, "image": c.Image, "imageDigest": c.ImageDigest, "lastStatus": c.LastStatus, "containerArn": c.ContainerArn, "taskArn": c.TaskArn}
		if c.ExitCode != nil {
			m["exitCode"] = *c.ExitCode
		}
		if c.Reason != "" {
			m["reason"] = c.Reason
		}
		containers = append(containers, m)
	}
	d := map[string]any{
		"clusterArn": t.ClusterArn, "taskArn": t.TaskArn, "taskDefinitionArn": t.TaskDefinitionArn,
		"group": t.Group, "startedBy": t.StartedBy, "launchType": t.LaunchType, "platformVersion": t.PlatformVersion,
		"lastStatus": t.LastStatus, "desiredStatus": t.DesiredStatus, "availabilityZone": t.AvailabilityZone,
		"cpu": t.CPU, "memory": t.Memory, "containers": containers, "version": t.Version,
		"createdAt": iso(&t.CreatedAt), "startedAt": iso(t.StartedAt), "stoppingAt": iso(t.StoppingAt),
		"stoppedAt": iso(t.StoppedAt), "updatedAt": now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"pullStartedAt": iso(t.PullStartedAt), "pullStoppedAt": iso(t.PullStoppedAt),
		"executionStoppedAt": iso(t.ExecutionStoppedAt), "connectivity": t.Connectivity,
		"connectivityAt": iso(t.ConnectivityAt), "healthStatus": t.HealthStatus,
		"attachments": append([]Attachment(nil), t.Attachments...), "overrides": map[string]any{"containerOverrides": []map[string]string{}},
	}
	for k, v := range d {
		if v == nil {
			delete(d, k) // unset timestamps are absent, as in AWS's events
		}
	}
	if t.StopCode != "" {
		d["stopCode"] = t.StopCode
		d["stoppedReason"] = t.StoppedReason
	}
	return d
}

// launchTask creates a task of a service revision and starts its process in
// the background. tg is the target group to register it in once running
// ("" for none).
func (b *Backend) launchTask(ctx context.Context, s *serviceRec, rev *revisionRec, tgs []string) (*taskRec, error) {
	td, ok := b.taskDef(rev.TaskDefinition)
	if !ok {
		return nil, fmt.Errorf("launch task: task definition %s not found", rev.TaskDefinition)
	}
	t, err := b.newTask(td, s.Cluster, rev.LegacyID, "service:"+s.ServiceName, s.LaunchType, s.PlatformVersion)
	if err != nil {
		return nil, err
	}
	t.ServiceID = s.key()
	t.Revision = rev.ServiceRevisionArn
	t.TargetGroups = tgs
	// Spread over the availability zones as the service's subnets would.
	n := 0
	for _, o := range b.st.Tasks {
		if o.ServiceID == t.ServiceID && o.running() {
			n++
		}
	}
	t.AvailabilityZone = b.cfg.AvailabilityZones[n%len(b.cfg.AvailabilityZones)]
	switch s.PropagateTags {
	case "SERVICE":
		t.Tags = append([]Tag(nil), b.st.Tags[s.ServiceArn]...)
	case "TASK_DEFINITION":
		t.Tags = append([]Tag(nil), b.st.Tags[td.TaskDefinitionArn]...)
	}
	if s.EnableECSManagedTags {
		t.Tags = append(t.Tags, Tag{Key: "aws:ecs:clusterName", Value: s.Cluster}, Tag{Key: "aws:ecs:serviceName", Value: s.ServiceName})
	}
	if len(t.Tags) > 0 {
		b.st.Tags[t.TaskArn] = t.Tags
	}
	b.st.Tasks[t.ID] = t
	b.dirty = true
	b.emit("ECS Task State Change", t.TaskArn, taskEventDetail(t, b.cfg.Clock.Now()))
	b.startProcess(ctx, t, td, rev.Pinned)
	return t, nil
}

// newTask builds a PROVISIONING task record for a task definition.
func (b *Backend) newTask(td *taskDefRec, cluster, startedBy, group, launchType, platformVersion string) (*taskRec, error) {
	if len(td.ContainerDefinitions) == 0 {
		return nil, fmt.Errorf("launch task: task definition has no containers")
	}
	id := randomHex(32)
	port := containerPort(td)
	host, err := b.allocateAddress(port)
	if err != nil {
		return nil, err
	}
	now := b.cfg.Clock.Now()
	if launchType == "" {
		launchType = "FARGATE"
	}
	if launchType == "FARGATE" && (platformVersion == "" || platformVersion == "LATEST") {
		platformVersion = "1.4.0"
	}
	t := &taskRec{ID: id, Cluster: cluster, Family: td.Family, TDRev: td.Revision, Host: host, Port: port}
	eni := randomHex(8)
	t.Task = Task{
		TaskArn: b.arn("task/" + cluster + "/" + id), ClusterArn: b.arn("cluster/" + cluster),
		TaskDefinitionArn: td.TaskDefinitionArn, Group: group, StartedBy: startedBy,
		LastStatus: "PROVISIONING", DesiredStatus: "RUNNING", HealthStatus: "UNKNOWN",
		LaunchType: launchType, PlatformVersion: platformVersion, PlatformFamily: "Linux",
		CPU: td.CPU, Memory: td.Memory, CreatedAt: awsproto.NewTimestamp(now), Version: 1,
		Attachments: []Attachment{{ID: "eni-attach-" + eni, Type: "ElasticNetworkInterface", Status: "ATTACHED", Details: []KeyValuePair{
			{Name: "networkInterfaceId", Value: "eni-" + eni}, {Name: "privateIPv4Address", Value: host},
		}}},
	}
	for _, c := range td.ContainerDefinitions {
		t.Containers = append(t.Containers, Container{
			ContainerArn: b.arn("container/" + cluster + "/" + id + "/" + randomHex(32)), TaskArn: t.TaskArn,
			Name: c.Name, Image: c.Image, LastStatus: "PENDING", HealthStatus: "UNKNOWN",
			CPU:               strconv.Itoa(int(c.CPU)),
			NetworkInterfaces: []NetInterface{{AttachmentID: "eni-attach-" + eni, PrivateIpv4Address: host}},
		})
	}
	return t, nil
}

// containerPort is the port the task listens on: the first mapped container
// port of the first container that has one.
func containerPort(td *taskDefRec) int32 {
	for _, c := range td.ContainerDefinitions {
		for _, pm := range c.PortMappings {
			if pm.ContainerPort != nil {
				return *pm.ContainerPort
			}
		}
	}
	return 0
}

// startProcess pulls and starts the task's essential container in the
// background (it may take a while to unpack an image).
func (b *Backend) startProcess(ctx context.Context, t *taskRec, td *taskDefRec, pinned []pinnedImage) {
	c := td.ContainerDefinitions[0]
	for _, cd := range td.ContainerDefinitions {
		if cd.Essential == nil || *cd.Essential {
			c = cd
			break
		}
	}
	hc, hasHC := parseHealthCheck(c.HealthCheck)
	ex, canExec := b.cfg.Runner.(execer)
	hasHC = hasHC && canExec
	t.HealthChecked = hasHC
	image := c.Image
	for _, p := range pinned {
		if p.Container == c.Name {
			image = p.Image
		}
	}
	env := []string{
		"AWS_REGION=" + b.cfg.Region, "AWS_DEFAULT_REGION=" + b.cfg.Region,
		"AWS_EXECUTION_ENV=AWS_ECS_" + t.LaunchType,
	}
	for _, kv := range c.Environment {
		env = append(env, kv.Name+"="+kv.Value)
	}
	spec := taskrun.Spec{
		TaskID: t.ID, Image: image, EntryPoint: c.EntryPoint, Command: c.Command, Env: env,
		Host: t.Host, Port: int(t.Port), Metadata: &metadata{b: b, taskID: t.ID, container: c.Name},
	}
	if c.StopTimeout != nil {
		spec.StopTimeout = time.Duration(*c.StopTimeout) * time.Second
	}
	if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
		spec.LogGroup = lc.Options["awslogs-group"]
		spec.LogStream = lc.Options["awslogs-stream-prefix"] + "/" + c.Name + "/" + t.ID
	}
	now := b.cfg.Clock.Now()
	t.PullStartedAt = ts(now)
	b.setTaskStatus(t, "PENDING")
	id := t.ID
	b.wg.Go(func() {
		p, err := b.cfg.Runner.Start(ctx, spec, func(e taskrun.Exit) { b.processExited(id, e) })
		b.mu.Lock()
		defer b.mu.Unlock()
		defer b.poke()
		t, ok := b.st.Tasks[id]
		if !ok {
			return
		}
		if err != nil {
			reason := err.Error()
			b.log.Warn("task failed to start", "task", id, "error", err)
			t.StopCode, t.StoppedReason = "TaskFailedToStart", reason
			for i := range t.Containers {
				t.Containers[i].Reason = reason
			}
			t.DesiredStatus = "STOPPED"
			b.setTaskStatus(t, "STOPPED")
			return
		}
		t.PullStoppedAt = ts(b.cfg.Clock.Now())
		for i := range t.Containers {
			t.Containers[i].ImageDigest = p.ImageDigest
			t.Containers[i].RuntimeID = id + "-" + strconv.Itoa(p.Pid)
		}
		if t.LastStatus == "STOPPED" {
			// The process already exited (processExited ran first): it
			// must not come back as RUNNING.
			return
		}
		b.procs[id] = p
		if t.DesiredStatus == "STOPPED" {
			// Stopped while starting: go straight to the stop sequence.
			b.setTaskStatus(t, "RUNNING")
			b.beginStop(ctx, t, t.PendingReason, t.PendingCode)
			return
		}
		b.setTaskStatus(t, "RUNNING")
		if hasHC {
			b.wg.Go(func() { b.watchContainerHealth(ctx, ex, id, p, hc) })
		}
		if len(t.TargetGroups) > 0 && b.cfg.ELB != nil {
			for _, tg := range t.TargetGroups {
				if err := b.cfg.ELB.RegisterTargets(ctx, tg, []Target{{ID: t.Host, Port: t.Port}}); err != nil {
					b.log.Error("register task in target group", "task", id, "targetGroup", tg, "error", err)
				} else {
					b.log.Info("task registered", "task", id, "target", t.Host, "targetGroup", tg)
				}
			}
		}
	})
}

// processExited records a task's process exit. An exit nobody asked for
// stops the task as "Essential container in task exited"; the scheduler then
// replaces it.
func (b *Backend) processExited(id string, e taskrun.Exit) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.poke()
	delete(b.procs, id)
	delete(b.usage, id)
	t, ok := b.st.Tasks[id]
	if !ok || t.LastStatus == "STOPPED" {
		return
	}
	code := int32(e.Code)
	for i := range t.Containers {
		t.Containers[i].ExitCode = &code
		t.Containers[i].Reason = ""
	}
	if t.DesiredStatus != "STOPPED" {
		// Unexpected: the target is dead, take it out at once.
		t.DesiredStatus = "STOPPED"
		t.StopCode, t.StoppedReason = "EssentialContainerExited", "Essential container in task exited"
		b.deregisterNow(context.Background(), t)
	} else {
		t.StopCode, t.StoppedReason = t.PendingCode, t.PendingReason
	}
	b.setTaskStatus(t, "DEPROVISIONING")
	b.setTaskStatus(t, "STOPPED")
}

func (b *Backend) deregisterNow(ctx context.Context, t *taskRec) {
	if b.cfg.ELB == nil {
		return
	}
	for _, tg := range t.TargetGroups {
		if err := b.cfg.ELB.DeregisterTargets(ctx, tg, []Target{{ID: t.Host, Port: t.Port}}); err != nil {
			b.log.Warn("deregister task", "task", t.ID, "targetGroup", tg, "error", err)
		}
	}
}

// beginStop starts a task's stop sequence: deregister from its target
// groups, wait out the longest deregistration delay, then SIGTERM and,
// after the stopTimeout, SIGKILL. Callers hold b.mu.
func (b *Backend) beginStop(ctx context.Context, t *taskRec, reason, code string) {
	if t.LastStatus == "STOPPED" || b.stopping[t.ID] {
		if t.DesiredStatus != "STOPPED" {
			t.DesiredStatus = "STOPPED"
		}
		return
	}
	t.DesiredStatus = "STOPPED"
	t.PendingReason, t.PendingCode = reason, code
	b.dirty = true
	p, ok := b.procs[t.ID]
	if !ok {
		// Still provisioning: startProcess finishes the stop, or the
		// start failed and the task is already STOPPED.
		return
	}
	b.stopping[t.ID] = true
	b.setTaskStatus(t, "DEACTIVATING")
	var delay time.Duration
	if b.cfg.ELB != nil {
		for _, tg := range t.TargetGroups {
			if info, err := b.cfg.ELB.TargetGroup(ctx, tg); err == nil && info.DeregistrationDelay > delay {
				delay = info.DeregistrationDelay
			}
		}
	}
	b.deregisterNow(ctx, t)
	id := t.ID
	b.wg.Go(func() {
		if delay > 0 {
			select {
			case <-b.cfg.Clock.After(delay):
			case <-ctx.Done():
				return
			}
		}
		b.mu.Lock()
		if t, ok := b.st.Tasks[id]; ok && t.LastStatus != "STOPPED" {
			b.setTaskStatus(t, "STOPPING")
		}
		b.mu.Unlock()
		if err := b.cfg.Runner.Stop(ctx, p); err != nil {
			b.log.Warn("stop task process", "task", id, "error", err)
		}
		b.mu.Lock()
		delete(b.stopping, id)
		b.mu.Unlock()
	})
}

// recoverDeployments restarts the hooks of in-flight deployments' current
// stages: the goroutines that ran them died with the previous run.
func (b *Backend) recoverDeployments() {
	for _, d := range b.st.Deployments {
		if !d.done() && d.HooksStarted && d.HooksPending > 0 {
			d.HooksStarted, d.HooksPending, d.HookSeq = false, 0, nil
			b.dirty = true
		}
	}
}

// recoverTasks settles tasks a previous run left: their processes died
// with it (or are killed now), their targets are deregistered, and they are
// recorded as STOPPED so the scheduler starts replacements.
func (b *Backend) recoverTasks(ctx context.Context) {
	for _, t := range b.st.Tasks {
		if t.LastStatus == "STOPPED" {
			continue
		}
		killLeftover(t)
		b.deregisterNow(ctx, t)
		t.DesiredStatus = "STOPPED"
		t.StopCode = "ServiceSchedulerInitiated"
		t.StoppedReason = "Task stopped because localcloud restarted"
		b.setTaskStatus(t, "STOPPED")
	}
}

// killLeftover kills a process a crashed localcloud may have left, found by
// the task's metadata URI in its environment.
func killLeftover(t *taskRec) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	needle := []byte("/v4/" + t.ID)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && strings.Contains(string(env), string(needle)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
