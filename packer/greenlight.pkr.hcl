# The release AMI: Debian 12 with nginx, gunicorn under systemd and the app in a versioned release
# directory. Run from the repository root:
#   packer build -var app=greenlight-demo -var release=2026.11.22-3f9c2ab -var git_sha=$(git rev-parse HEAD) packer/
# then record the AMI under the release:
#   npx tsx bin/greenlight.ts publish-ami --manifest packer/manifest.json --release 2026.11.22-3f9c2ab
#
# Works with Debian's Packer 1.6.6 as is. Modern Packer first installs the Amazon plugin with
# `packer init packer/plugins` (required_plugins lives there because 1.6.6 rejects the block).

variable "app" {
  type        = string
  description = "The app's name, as in cdk.json's context.app; also the app user's name."
}

variable "release" {
  type        = string
  description = "The release id the AMI is recorded under, e.g. 2026.11.22-3f9c2ab."
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "app_source" {
  type        = string
  default     = ""
  description = "The Django project to bake (a directory with manage.py). Default: examples/django-app."
}

variable "git_sha" {
  type    = string
  default = "unknown"
}

variable "source_ami_name" {
  type        = string
  default     = "debian-12-amd64-*"
  description = "Name filter for the base AMI; the newest match is used."
}

variable "source_ami_owner" {
  type        = string
  default     = "136693071363"
  description = "Owner of the base AMI. The default is Debian's official account."
}

variable "ami_users" {
  type        = list(string)
  default     = []
  description = "Other accounts that may launch the AMI: those of environments outside the bake account."
}

variable "kms_key_id" {
  type        = string
  default     = ""
  description = "KMS key for the AMI's snapshot (default: aws/ebs). Sharing with ami_users needs a customer managed key they may use."
}

variable "vpc_id" {
  type        = string
  default     = ""
  description = "VPC to build in (the bake role's <BAKE_VPC_ID>). Default: the account's default VPC."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet of vpc_id to build in. Default: one Packer picks in the VPC."
}

variable "associate_public_ip_address" {
  type        = bool
  default     = true
  description = "Give the build instance a public IP: false in a private subnet reached through a NAT gateway and a VPN or peering."
}

variable "ssh_interface" {
  type        = string
  default     = "public_ip"
  description = "How Packer reaches the build instance over SSH: public_ip, private_ip, public_dns or private_dns."

  validation {
    condition     = contains(["public_ip", "private_ip", "public_dns", "private_dns"], var.ssh_interface)
    error_message = "The ssh_interface must be one of public_ip, private_ip, public_dns or private_dns."
  }
}

variable "volume_size" {
  type    = number
  default = 8
}

locals {
  app_source = var.app_source != "" ? var.app_source : "${path.root}/../examples/django-app"
  build_time = timestamp()
  tags = {
    Name                 = "${var.app}-${var.release}"
    "greenlight:app"     = var.app
    "greenlight:release" = var.release
    "greenlight:git-sha" = var.git_sha
    "greenlight:built"   = local.build_time
  }
  # What Packer creates carries greenlight:packer from its creating call; the bake role changes and
  # deletes only resources with it, and cannot add it later (iam/bake-role-policy.json).
  run_tags = merge(local.tags, { "greenlight:packer" = var.app })
}

source "amazon-ebs" "debian" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.app}-${var.release}"
  ssh_username  = "admin"

  # Accounts without a default VPC name one; a private subnet needs private_ip and no public address.
  vpc_id                      = var.vpc_id
  subnet_id                   = var.subnet_id
  associate_public_ip_address = var.associate_public_ip_address
  ssh_interface               = var.ssh_interface

  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }

  # The image's snapshot is encrypted, and so is the build instance's volume.
  encrypt_boot = true
  kms_key_id   = var.kms_key_id
  # Environments in other accounts launch the same AMI; the key above must let them decrypt it, and
  # their Auto Scaling service-linked role needs a grant on it. Launching a shared AMI needs no
  # snapshot sharing.
  ami_users = var.ami_users
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = var.volume_size
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  tags            = local.tags
  snapshot_tags   = local.tags
  run_tags        = local.run_tags
  run_volume_tags = local.run_tags
}

build {
  sources = ["source.amazon-ebs.debian"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/greenlight/app /tmp/greenlight/files"]
  }

  provisioner "file" {
    source      = "${local.app_source}/"
    destination = "/tmp/greenlight/app"
  }

  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/greenlight/files"
  }

  provisioner "shell" {
    execute_command = "sudo -E env {{ .Vars }} bash '{{ .Path }}'"
    environment_vars = [
      "GREENLIGHT_APP=${var.app}",
      "GREENLIGHT_RELEASE=${var.release}",
      "GREENLIGHT_APP_SOURCE=/tmp/greenlight/app",
      "GREENLIGHT_FILES=/tmp/greenlight/files",
    ]
    scripts = [
      "${path.root}/scripts/10-packages.sh",
      "${path.root}/scripts/20-app-user.sh",
      "${path.root}/scripts/30-release.sh",
      "${path.root}/scripts/40-services.sh",
      "${path.root}/scripts/90-cleanup.sh",
    ]
  }

  # Records the AMI id (region:ami-…) for `greenlight publish-ami`.
  post-processor "manifest" {
    output     = "${path.root}/manifest.json"
    strip_path = true
    custom_data = {
      app     = var.app
      release = var.release
      git_sha = var.git_sha
    }
  }
}
